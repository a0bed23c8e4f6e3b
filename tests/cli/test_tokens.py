"""`launchdeck tokens ...`: the created token alone on stdout (scripts capture it), stored hashed,
listed without the secret, revocable."""

import subprocess

import httpx
from sqlmodel import Session, select

from orchestrator.core.models import ApiToken
from tests.support.processes import LAUNCHDECK


def run(workdir, *args):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir)}
    return subprocess.run([LAUNCHDECK, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120)


def test_create_prints_only_the_token_which_is_stored_hashed_and_can_be_revoked(workdir, api_server, engine):
    # The API fixture serves the test database; point the CLI at the same one.
    url = engine.url.render_as_string(hide_password=False)
    env_file = workdir / ".env"
    env_file.write_text(f"LAUNCHDECK_DATABASE_URL={url}\n")
    assert run(workdir, "init").returncode == 0
    created = run(workdir, "tokens", "create", "--role", "prodops", "--name", "ci-bot")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("ldk_")
    assert "\n" not in secret
    assert "created token" in created.stderr
    with Session(engine) as session:
        (stored,) = session.exec(select(ApiToken).where(ApiToken.name == "ci-bot")).all()
    assert secret not in (stored.token_hash, stored.prefix)
    assert secret not in run(workdir, "tokens", "list").stdout

    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.get(f"{api_server}/api/v1/launches", headers=headers).status_code == 200
    assert run(workdir, "tokens", "revoke", str(stored.id)).returncode == 0
    assert httpx.get(f"{api_server}/api/v1/launches", headers=headers).status_code == 401


def test_a_member_token_needs_a_known_team(workdir):
    assert run(workdir, "init").returncode == 0
    missing = run(workdir, "tokens", "create", "--role", "member", "--name", "ann")
    assert missing.returncode == 1
    assert "--team" in missing.stderr
    unknown = run(workdir, "tokens", "create", "--role", "member", "--name", "ann", "--team", "catering")
    assert unknown.returncode == 1
    assert "unknown team 'catering'" in unknown.stderr
    assert unknown.stdout == ""
