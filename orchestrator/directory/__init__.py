"""Who and where: teams, regions and members (the seed file and its upserts), and API tokens."""
