"""`policybot teams-package`: the zip to upload to Teams (the app manifest with the bot's app id, and its icons)."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from adapters.teams.settings import GUID
from bot.bootstrap import ConfigError

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "teams"
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
FILES = ("manifest.json", "color.png", "outline.png")


def build_package(app_id: str, out: Path, source: Path = DEPLOY, version: str | None = None) -> Path:
    """Write the upload zip: manifest.json (its id and the bot's id set to the Azure Bot's app id) and the icons."""
    if not GUID.match(app_id or ""):
        raise ConfigError("the Teams package needs the bot's Microsoft App ID (a GUID): pass --app-id or set MicrosoftAppId")
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        raise ConfigError(f"{source}: {', '.join(missing)} missing")
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    manifest["id"] = app_id
    for bot in manifest.get("bots", []):
        bot["botId"] = app_id
    if version:
        manifest["version"] = version
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name in FILES[1:]:
            package.write(source / name, name)
    return out
