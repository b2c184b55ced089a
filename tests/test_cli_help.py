"""`tfembed --version`, and every option with a default says it in --help: the `tfembed`
sub-commands, `tfembed serve`, `tfembed query` and the recipes' shared flags."""

import argparse
import subprocess
import sys

import pytest

import tfembed
from tfembed import cli, recipe
from tfembed.beam import embed_images
from tfembed.serving import client, server


def test_version_prints_the_package_version():
    out = subprocess.run([sys.executable, "-c", "import sys; from tfembed.cli import main; "
                          "sys.exit(main())", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == f"tfembed {tfembed.__version__}"


def _parsers(parser, prefix):
    """(name, parser) for `parser` and every sub-command parser below it."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prefix} {name}")


ALL = (list(_parsers(cli.build_parser(), "tfembed")) + list(_parsers(server.build_parser(),
       "tfembed serve")) + list(_parsers(client.build_parser(), "tfembed query"))
       + [("recipes/NAME.py", recipe.build_parser("NAME", "a recipe")),
          ("tfembed embed", embed_images._parser())])


def _with_defaults(parser):
    return [a for a in parser._actions if a.option_strings and a.default not in (
        None, argparse.SUPPRESS) and a.default is not False and a.default != []]


def _entry(parser, action):
    """The action's own lines of the parser's --help, unwrapped."""
    formatter = parser._get_formatter()
    formatter.add_argument(action)
    return " ".join(formatter.format_help().split())


@pytest.mark.parametrize("name,parser", ALL, ids=[n for n, _ in ALL])
def test_every_default_is_shown_in_help(name, parser):
    whole = " ".join(parser.format_help().split())
    for action in _with_defaults(parser):
        entry = _entry(parser, action)
        assert entry in whole  # the entry checked is what --help prints
        if "default" in (action.help or "").lower():  # the help explains its own default
            continue
        assert f"(default: {action.default})" in entry, f"{name}: {entry!r}"


def test_the_check_sees_parsers_with_defaults():
    counted = {name: len(_with_defaults(p)) for name, p in ALL}
    assert counted["tfembed index build"] >= 2 and counted["tfembed serve"] >= 5
    assert counted["tfembed query"] >= 5 and counted["recipes/NAME.py"] >= 2


def test_choices_are_listed():
    assert "{faiss,hnswlib,brute_force}" in dict(ALL)["tfembed index build"].format_help()
    assert "{default,mirrored,multi_worker}" in dict(ALL)["recipes/NAME.py"].format_help()


def test_a_flag_without_a_default_gets_none_shown():
    parser = argparse.ArgumentParser(formatter_class=cli.HelpFormatter)
    parser.add_argument("--a", default=None, help="alpha")
    parser.add_argument("--b", default=0)
    parser.add_argument("--c", action="store_true", help="gamma")
    text = parser.format_help()
    assert "(default: 0)" in text and "(default: None)" not in text
    assert "(default: False)" not in text
