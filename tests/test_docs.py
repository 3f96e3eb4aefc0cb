"""The guide: the README stays short and names every command; docs/ builds strictly, so a renamed
page or heading that something still links to fails here (and in CI, through `make test`)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from kb.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess:
    """MkDocs' own command; its warnings and its verdict, together, in ``stderr``."""
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300)


def copy_of_the_guide(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "docs", project / "docs")
    shutil.copy(ROOT / "mkdocs.yml", project)
    return project


def command_paths(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    """Every command a user types, as its words: ('check',), ('import', 'docx'), …"""
    for name, command in group.commands.items():
        path = prefix + (name,)
        if isinstance(command, click.Group):
            yield from command_paths(command, path)
        else:
            yield path


def command_line_section() -> str:
    """The first block of the README's command line section: one line per command."""
    section = README.split("## The command line", 1)[1]
    return re.search(r"\n\n((?:    .*\n)+)", section).group(1)


# ---- the site ------------------------------------------------------------------------------------

def test_the_guide_builds_strictly_with_every_page(tmp_path):
    done = mkdocs_build(ROOT, tmp_path / "site")
    assert 0 == done.returncode, done.stdout
    pages = sorted(p.relative_to(ROOT / "docs").with_suffix(".html").as_posix()
                   for p in (ROOT / "docs").rglob("*.md"))
    assert pages == sorted(p.relative_to(tmp_path / "site").as_posix()
                           for p in (tmp_path / "site").rglob("*.html")
                           if p.name not in ("404.html", "search.html"))
    # one page per reader, in its language
    assert '<html class="writer-html5" lang="it"' in (tmp_path / "site" / "index.html").read_text()
    assert "Dalle note al rapporto" in (tmp_path / "site" / "staff" / "index.html").read_text()
    assert "The package map" in (tmp_path / "site" / "developers" / "packages.html").read_text()


def test_a_renamed_heading_that_is_linked_fails_the_build(tmp_path):
    project = copy_of_the_guide(tmp_path)
    page = project / "docs" / "staff" / "privacy.md"
    page.write_text(page.read_text().replace("## Ringraziare qualcuno per nome: `allow_names`",
                                             "## Ringraziamenti con i nomi"))
    done = mkdocs_build(project, tmp_path / "site")
    assert 1 == done.returncode
    assert ("Doc file 'staff/rapporto.md' contains a link "
            "'privacy.md#ringraziare-qualcuno-per-nome-allow_names', but the doc 'staff/privacy.md' "
            "does not contain an anchor '#ringraziare-qualcuno-per-nome-allow_names'.") in done.stdout
    assert "Aborted with" in done.stdout


def test_a_renamed_page_that_is_linked_fails_the_build(tmp_path):
    project = copy_of_the_guide(tmp_path)
    (project / "docs" / "staff" / "word.md").rename(project / "docs" / "staff" / "docx.md")
    done = mkdocs_build(project, tmp_path / "site")
    assert 1 == done.returncode
    assert "'staff/word.md'" in done.stdout  # the nav and the pages that link to it
    assert "Aborted with" in done.stdout


def test_a_page_left_out_of_the_nav_fails_the_build(tmp_path):
    project = copy_of_the_guide(tmp_path)
    (project / "docs" / "staff" / "bozza.md").write_text("# Bozza\n")
    done = mkdocs_build(project, tmp_path / "site")
    assert 1 == done.returncode
    assert "staff/bozza.md" in done.stdout


def test_make_test_builds_the_guide_strictly():
    makefile = (ROOT / "Makefile").read_text()
    test_target = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/mkdocs build --strict" in test_target
    assert "COTOUR_FAIL_ON_SKIP=1 make test" in (ROOT / ".ci" / "run").read_text()
    assert "strict: true" in (ROOT / "mkdocs.yml").read_text()


# ---- the README ----------------------------------------------------------------------------------

def test_the_readme_is_short():
    assert len(README.splitlines()) < 250


def test_the_readme_says_the_data_are_illustrative_and_gives_the_two_commands():
    assert "**The sample data in `data/` are illustrative.**" in README
    assert "make run" in README and "make test" in README


def test_the_readmes_links_into_the_guide_exist():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert {"docs/staff/index.md", "docs/ricerca/index.md", "docs/pubblicazione/index.md",
            "docs/developers/index.md"} <= set(local)
    assert [] == [link for link in local if not (ROOT / link).is_file()]


def test_every_command_is_in_the_readmes_command_line_and_has_help():
    section = command_line_section()
    assert len(section.splitlines()) == len(re.findall(r"^    cotour ", section, re.M))
    listed = re.findall(r"^    cotour ([a-z]+(?: [a-z]+)?)  ", section, re.M)
    paths = [" ".join(path) for path in command_paths()]
    assert sorted(paths) == sorted(listed)  # every command listed, nothing listed that is none
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(cli, [*path.split(), "--help"])
        assert 0 == result.exit_code, path
        assert f"Usage: cli {path} [OPTIONS]" in result.output, path
        command = cli
        for word in path.split():
            command = command.commands[word]
        assert command.get_short_help_str(), path
