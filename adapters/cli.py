"""`policybot`: ask a question, chat in the terminal, serve Slack and Teams, package the Teams app, check the knowledge base."""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

from bot.bootstrap import ConfigError, build_bot, build_worker, environment, knowledge_dir
from bot.directory import DirectoryError
from bot.storage import StorageError
from knowledge import KnowledgeBaseError
from bot.core import PolicyBot
from bot.types import Incoming


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policybot", description="Staff guidance on council policy, with citations.")
    commands = parser.add_subparsers(metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer one question (or, with --json, one per line of standard input)")
    ask.add_argument("question", nargs="*", help="the question; with --json and no question, read standard input")
    ask.add_argument("--json", action="store_true", help="write one JSON object per question")
    ask.set_defaults(run=_ask)

    chat = commands.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--as", dest="user", metavar="EMAIL", help="start as this person from the staff directory")
    chat.set_defaults(run=_chat)

    serve = commands.add_parser("serve", help="run the bot for Slack and/or Teams (configured from the environment)")
    serve.add_argument("--port", type=int, help="port to listen on (default: $PORT or 3978)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    serve.add_argument("--socket-mode", action="store_true",
                       help="take Slack's events over Socket Mode (needs SLACK_APP_TOKEN) instead of a public URL")
    serve.set_defaults(run=_serve)

    package = commands.add_parser("teams-package", help="build the zip to upload to Microsoft Teams")
    package.add_argument("--app-id", help="the Azure Bot's Microsoft App ID (default: $MicrosoftAppId)")
    package.add_argument("--out", default="policybot-teams.zip", help="where to write it (default: %(default)s)")
    package.add_argument("--version", help="the app's version in the manifest (raise it for each upload)")
    package.set_defaults(run=_teams_package)

    kb = commands.add_parser("kb", help="knowledge base tools")
    kb_commands = kb.add_subparsers(metavar="KB_COMMAND")
    check = kb_commands.add_parser("check", help="validate the knowledge base files")
    check.add_argument("directory", nargs="?", type=Path, help="knowledge directory (default: the built-in one)")
    check.set_defaults(run=_kb_check)
    return parser


def _ask(args: argparse.Namespace) -> int:
    bot = build_bot(persistent=False)
    if args.json:
        questions = [" ".join(args.question)] if args.question else (line.rstrip("\r\n") for line in sys.stdin)
        for question in questions:
            print(json.dumps(answer_record(bot, question), ensure_ascii=False), flush=True)
        return 0
    if not args.question:
        print("policybot ask: give a question, for example: policybot ask \"can I use my work email for twitter?\"",
              file=sys.stderr)
        return 2
    print(bot.handle(Incoming("cli", "cli", "cli", " ".join(args.question))).text)
    return 0


_questions = itertools.count()


def answer_record(bot: PolicyBot, question: str) -> dict:
    """The stable JSON interface: other tools score the bot with it. Each question is a new conversation."""
    outcome = bot.handle(Incoming("cli", f"cli-{next(_questions)}", "cli", question))
    u = outcome.understanding
    return {
        "question": question,
        "intent": u.intent.value,
        "clauses": list(u.clauses),
        "confidence": u.confidence,
        "text": outcome.text,
    }


def _chat(args: argparse.Namespace) -> int:
    from adapters.console import ConsoleChat, ConsoleTransport

    try:
        bot = build_bot(name="console")
    except (ConfigError, DirectoryError, StorageError, KnowledgeBaseError) as exc:
        print(f"policybot: {exc}", file=sys.stderr)
        return 1
    transport = ConsoleTransport()
    return ConsoleChat(bot, args.user, build_worker(bot, transport), transport).run()


def _serve(args: argparse.Namespace) -> int:
    import logging
    import os

    try:
        from adapters.server import DEFAULT_PORT, serve
    except ImportError as exc:
        print(f"policybot serve needs the chat platform packages ({exc.name} is missing): "
              "pip install 'policybot[slack]' for Slack, 'policybot[teams]' for Teams", file=sys.stderr)
        return 1
    logging.basicConfig(level=os.environ.get("POLICYBOT_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)  # it logs request bodies at INFO and DEBUG
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    for noisy in ("msrest", "msal", "botbuilder", "botframework", "urllib3"):  # request and token details at DEBUG
        logging.getLogger(noisy).setLevel(logging.WARNING)
    port = args.port
    if port is None:
        raw = os.environ.get("PORT", "") or str(DEFAULT_PORT)
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            print("policybot: PORT must be a port number (1-65535)", file=sys.stderr)
            return 1
        port = int(raw)
    try:
        serve(port, args.host, socket_mode=args.socket_mode)
    except (ConfigError, DirectoryError, StorageError, KnowledgeBaseError) as exc:
        print(f"policybot: {exc}", file=sys.stderr)
        return 1
    return 0


def _teams_package(args: argparse.Namespace) -> int:
    from adapters.teams.package import build_package

    app_id = args.app_id or environment().get("MicrosoftAppId", "")
    try:
        out = build_package(app_id.strip(), Path(args.out), version=args.version)
    except ConfigError as exc:
        print(f"policybot: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


def _kb_check(args: argparse.Namespace) -> int:
    import knowledge

    directory = args.directory or knowledge_dir()
    kb, problems = knowledge.read(directory)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if kb is None:
        print(f"{errors} error(s), {warnings} warning(s) in {directory}")
        return 1
    print(f"ok: {len(kb.documents)} document(s), {len(kb.clauses)} clauses, {len(kb.flows)} flows, "
          f"{len(kb.lexicon.concepts)} concepts; {warnings} warning(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
