"""Run by the system's Python (which has LibreOffice's UNO bridge, Debian's python3-uno), not
imported by kb: lays out each document given on the command line in LibreOffice, updates its
table of contents in memory and prints, as JSON, each document's entries as
``[level, text, page]``. Nothing is saved: the documents stay as they were written."""

import json
import os
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue


def _property(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def _entries(doc):
    found = []
    indexes = doc.getDocumentIndexes()
    for i in range(indexes.getCount()):
        index = indexes.getByIndex(i)
        if not index.supportsService("com.sun.star.text.ContentIndex"):
            continue
        index.update()
        paragraphs = index.getAnchor().createEnumeration()
        while paragraphs.hasMoreElements():
            paragraph = paragraphs.nextElement()
            style = paragraph.ParaStyleName or ""
            text, _, page = paragraph.getString().rpartition("\t")
            level = style.rsplit(" ", 1)[-1]
            if text and page.isdigit() and level.isdigit():
                found.append([int(level), text, int(page)])
    return found


def main(paths):
    profile = tempfile.mkdtemp(prefix="cotour-lo-")
    pipe = f"cotour{os.getpid()}"
    office = subprocess.Popen(
        ["soffice", "--headless", "--norestore", "--nologo", "--nodefault",
         f"-env:UserInstallation=file://{profile}", f"--accept=pipe,name={pipe};urp;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(300):
            try:
                remote = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.1)
        else:
            raise SystemExit("LibreOffice did not start")
        desktop = remote.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop",
                                                                  remote)
        result = {}
        for path in paths:
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)),
                                               "_blank", 0, (_property("Hidden", True),))
            try:
                result[path] = _entries(doc)
            finally:
                doc.close(True)
        sys.stdout.write(json.dumps(result) + "\n")
        try:
            desktop.terminate()
        except Exception:  # the bridge goes down with the office
            pass
        office.wait(timeout=60)
    finally:
        if office.poll() is None:
            office.kill()
        subprocess.run(["rm", "-rf", profile])


if __name__ == "__main__":
    main(sys.argv[1:])
