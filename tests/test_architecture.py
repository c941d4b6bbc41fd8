"""The core and the knowledge base know nothing of Slack or Teams: adapters translate."""
import ast

import pytest

from tests.conftest import ROOT

PLATFORM_PACKAGES = ("slack_bolt", "slack_sdk", "slack", "botbuilder", "botframework", "microsoft_agents", "aiohttp")


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("package", ["bot", "knowledge"])
def test_core_packages_import_no_platform_sdk(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] in PLATFORM_PACKAGES
    ]
    assert offenders == []


def test_the_knowledge_package_does_not_depend_on_the_bot():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "knowledge").rglob("*.py")
        if any(m.split(".")[0] in ("bot", "adapters") for m in imported_modules(path))
    ]
    assert offenders == []
