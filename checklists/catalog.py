"""What templates may refer to: teams and regions of the directory, and declared launch flags."""

from dataclasses import dataclass, field

from orchestrator.directory.seed import SeedConfig


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    timezone: str
    parent: str | None = None


@dataclass(frozen=True)
class Directory:
    """Teams and regions, from the seed file (validation, preview) or the database (launches)."""

    teams: frozenset[str]
    regions: dict[str, RegionInfo] = field(default_factory=dict)

    @classmethod
    def from_seed(cls, seed: SeedConfig) -> "Directory":
        return cls(
            teams=frozenset(team.key for team in seed.teams),
            regions={
                region.code: RegionInfo(region.code, region.name, region.timezone, region.parent)
                for region in seed.regions
            },
        )
