"""The package as a user installs it: a wheel built from the repository, installed in a fresh
virtual environment, run from a folder that is not the clone.

The wheel's dependencies are the ones already installed for the tests: the fresh environment
reads them through a ``.pth`` line (a plain path, so the clone's editable install, whose own
``.pth`` lives there, is not loaded), and the wheel itself is installed with ``--no-deps``.
"""

import json
import os
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv holding only the wheel, the wheel's path)."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(work / "dist"), str(ROOT)], check=True, cwd=work,
                   capture_output=True)
    wheel = next((work / "dist").glob("cotour_kb-*.whl"))
    venv.create(work / "venv", with_pip=False)
    python = work / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", str(wheel)], check=True, capture_output=True)
    return python, wheel, Path(purelib)


def test_the_wheel_carries_every_file_the_commands_read(installed):
    _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        "kb/templates/report.html", "kb/templates/report.css", "kb/templates/partials/cover.html",
        "kb/templates/reference.odt", "kb/templates/reference.docx",
        "kb/templates/opendata/index.html", "kb/report/editions.lua",
        "kb/serve/templates/base.html", "kb/serve/static/cotour.css",
        "kb/serve/queries/cerca.sql", "kb/validators/dcat-ap_2.1.1_shacl_shapes.ttl",
        "kb/validators/refi-qda/refi.xsd",
    }
    assert set() == shipped - names
    # every package of the clone is in the wheel
    packages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "kb").rglob("__init__.py")
                if "__pycache__" not in p.parts}
    assert set() == packages - names
    # every template of the clone is in the wheel, under kb/templates/
    templates = {f"kb/templates/{p.relative_to(ROOT / 'reports' / 'templates')}"
                 for p in (ROOT / "reports" / "templates").rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
    assert set() == templates - names


def test_cotour_all_runs_from_the_installed_wheel_outside_the_clone(installed, tmp_path):
    python, _, purelib = installed
    cotour = python.parent / "cotour"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # The package that answers is the wheel's, not the clone's.
    where = subprocess.run([str(python), "-c", "import kb, kb.resources as r; "
                            "print(kb.__file__); print(r.REPORT_TEMPLATES)"],
                           cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    module, templates = where.stdout.split()
    assert Path(module).is_relative_to(purelib)
    assert Path(templates).is_relative_to(purelib)
    run = subprocess.run([str(cotour), "all", "--data", str(SAMPLE)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    assert 0 == run.returncode, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    for output in ("build/cotour.db", "build/cotour-public.db", "build/report/cotour-report.pdf",
                   "build/report/cotour-report.html", "build/report/cotour-report.odt",
                   "build/report/cotour-report.docx", "build/opendata/datapackage.json",
                   "build/opendata/dcat-ap_it.ttl", "build/export/cotour.qdpx"):
        assert (tmp_path / output).stat().st_size > 0, output
    # and the Datasette plugin is found through the wheel's entry point
    plugins = subprocess.run([str(python), "-c", "import json; from datasette.plugins import "
                              "get_plugins; print(json.dumps({p['name']: p['hooks'] "
                              "for p in get_plugins()}))"],
                             cwd=tmp_path, env=env, check=True, capture_output=True, text=True)
    hooks = json.loads(plugins.stdout)["cotour-kb"]
    assert {"asgi_wrapper", "extra_template_vars", "render_cell", "register_routes",
            "startup"} <= set(hooks)
