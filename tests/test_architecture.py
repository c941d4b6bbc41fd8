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


@pytest.mark.parametrize("adapter, packages", [
    ("slack", ("slack_bolt", "slack_sdk")),
    ("teams", ("botbuilder", "botframework", "msrest", "msal", "jwt", "microsoft_agents")),
])
def test_each_sdk_is_used_only_by_its_own_adapter(adapter, packages):
    """Moving Teams to another SDK (the Microsoft 365 Agents SDK) touches adapters/teams/ and nothing else."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "adapters").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py"))
        if path.parent.name != adapter
        for module in imported_modules(path)
        if module.split(".")[0] in packages
    ]
    assert offenders == []


def test_the_terminal_needs_no_chat_platform_packages():
    """The quick start installs no extras: the terminal chat must not import aiohttp or a platform SDK."""
    import subprocess
    import sys

    code = ("import sys, adapters.cli, adapters.console, bot.bootstrap; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'slack_bolt', 'slack_sdk', 'botbuilder', 'botframework')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
