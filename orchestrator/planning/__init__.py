"""Planning across launches: the rollout timeline (regions x phases over dates, baselines and
slips), the GTM load (team x week of open items against each team's capacity) and collisions (two
big launches entering the same phase in a region within days of each other; phase dates in a
freeze or on a public holiday), and what a new or moved phase date would collide with before it is
saved (the dry runs). Reads only: nothing here writes to the database."""
