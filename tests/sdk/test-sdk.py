#!/usr/bin/env python3
# Copyright 2026 The Chartdesk authors
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The plugin SDK as a third party meets it, out of tree.

Installs this build into a temporary folder (meson install --destdir),
compiles tests/sdk/hello-stage.c against the installed headers alone with
`cc $(pkg-config --cflags --libs chartdesk-1)` and -Wall -Wextra -Werror,
then runs the *installed* chartdesk: `chartdesk plugins --json` must list the
new plugin with its options, and a workflow using its stage must archive
pages carrying the facts the stage wrote.

The installed chartdesk-1.pc names the configured prefix (/usr/local by
default), which is not where a --destdir install put the files. The test
copies it with its `prefix=` line pointing into the destdir; every other path
in it is relative to ${prefix}. (PKG_CONFIG_SYSROOT_DIR would also prefix the
system packages chartdesk-1 requires, and --define-prefix guesses the prefix
from the folder, which fails for multiarch libdirs like lib/x86_64-linux-gnu.)

Usage: test-sdk.py MESON BUILD_ROOT SOURCE_ROOT   (meson test runs it, TAP)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = False

    def ok(self, cond, name, detail=""):
        self.n += 1
        print(("ok" if cond else "not ok"), self.n, "/chartdesk/sdk/" + name, flush=True)
        if not cond:
            self.failed = True
            for line in str(detail).splitlines():
                print("#", line, flush=True)
        return cond


def run(cmd, env=None, cwd=None):
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def describe(proc):
    return f"$ {' '.join(proc.args)}\nstatus {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def meson_option(meson, build, name):
    proc = run(meson + ["introspect", "--buildoptions", build])
    for opt in json.loads(proc.stdout):
        if opt["name"] == name:
            return opt["value"]
    raise SystemExit(f"Bail out! no meson option {name}")


def main():
    meson, build, source = sys.argv[1].split(), sys.argv[2], sys.argv[3]
    cc = os.environ.get("CC", "cc").split()
    if shutil.which(cc[0]) is None or shutil.which("pkg-config") is None:
        print("1..0 # SKIP needs a C compiler and pkg-config")
        return 0
    print("1..8", flush=True)
    tap = Tap()
    prefix = meson_option(meson, build, "prefix")
    libdir = meson_option(meson, build, "libdir")
    if not os.path.isabs(libdir):
        libdir = os.path.join(prefix, libdir)
    bindir = os.path.join(prefix, meson_option(meson, build, "bindir"))

    with tempfile.TemporaryDirectory(prefix="cd-sdk-") as tmp:
        dest = os.path.join(tmp, "dest")
        root = dest + prefix  # where the configured prefix landed
        lib = dest + libdir

        # 1. the project installs: headers, pkg-config file, library, binary, plugins
        proc = run(meson + ["install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"])
        pc = os.path.join(lib, "pkgconfig", "chartdesk-1.pc")
        installed = [os.path.join(root, "include", "chartdesk-1", "chartdesk.h"), pc,
                     os.path.join(dest + bindir, "chartdesk"),
                     os.path.join(lib, "chartdesk-1", "plugins", "cd-plugin-files.so")]
        missing = [p for p in installed if not os.path.exists(p)]
        if not tap.ok(proc.returncode == 0 and not missing, "install",
                      describe(proc) + "\nmissing: " + " ".join(missing)):
            print("Bail out! nothing installed to build against")
            return 1

        # 2. pkg-config answers from the installed copy, relocated into the destdir
        pcdir = os.path.join(tmp, "pkgconfig")
        os.mkdir(pcdir)
        with open(pc) as f:
            text = "".join(f"prefix={root}\n" if line.startswith("prefix=") else line for line in f)
        with open(os.path.join(pcdir, "chartdesk-1.pc"), "w") as f:
            f.write(text)
        env = dict(os.environ)
        env["PKG_CONFIG_PATH"] = pcdir + os.pathsep + env.get("PKG_CONFIG_PATH", "")
        cflags = run(["pkg-config", "--cflags", "chartdesk-1"], env=env)
        libs = run(["pkg-config", "--libs", "chartdesk-1"], env=env)
        plugindir = run(["pkg-config", "--variable=plugindir", "chartdesk-1"], env=env)
        tap.ok(cflags.returncode == 0 and libs.returncode == 0
               and f"-I{root}/include/chartdesk-1" in cflags.stdout and f"-L{lib}" in libs.stdout
               and source not in cflags.stdout and plugindir.stdout.strip() == f"{lib}/chartdesk-1/plugins",
               "pkg-config", describe(cflags) + describe(libs) + describe(plugindir))

        # 3. a plugin including only <chartdesk.h> builds out of tree, warnings as errors
        plugins = os.path.join(tmp, "plugins")
        os.makedirs(os.path.join(plugins, "hello"))
        module = os.path.join(plugins, "hello", "cd-plugin-hello.so")
        # the warnings the project builds itself with
        compile_cmd = cc + ["-std=gnu11", "-shared", "-fPIC", "-Wall", "-Wextra", "-Wno-unused-parameter",
                            "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wformat=2", "-Werror",
                            "-o", module, os.path.join(source, "tests", "sdk", "hello-stage.c")]
        compile_cmd += cflags.stdout.split() + libs.stdout.split()
        proc = run(compile_cmd, cwd=tmp)
        if not tap.ok(proc.returncode == 0 and os.path.exists(module), "build-plugin", describe(proc)):
            print("Bail out! the SDK does not build a plugin")
            return 1

        # 4. the umbrella header also compiles as C++ (G_BEGIN_DECLS everywhere)
        cxx = shutil.which(os.environ.get("CXX", "c++"))
        if cxx is None:
            print("ok 4 /chartdesk/sdk/cxx-header # SKIP no C++ compiler", flush=True)
            tap.n += 1
        else:
            with open(os.path.join(tmp, "header.cpp"), "w") as f:
                f.write("#include <chartdesk.h>\nint main() { return CD_ERROR_FAILED; }\n")
            proc = run([cxx, "-Wall", "-Werror", "-fsyntax-only", "header.cpp"] + cflags.stdout.split(), cwd=tmp)
            tap.ok(proc.returncode == 0, "cxx-header", describe(proc))

        # the installed program, its library and plugins, and nothing from the build tree
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTDESK_")}
        env.update({
            "LD_LIBRARY_PATH": lib,
            "CHARTDESK_PLUGIN_PATH": plugins,
            "CHARTDESK_PLUGIN_SYSTEM_PATH": os.path.join(lib, "chartdesk-1", "plugins"),
            "CHARTDESK_WORKFLOW_PATH": tmp,
            "OMP_THREAD_LIMIT": "1",
        })
        chartdesk = os.path.join(dest + bindir, "chartdesk")

        # 5. chartdesk plugins --json lists it, its stage and its options
        proc = run([chartdesk, "plugins", "--json"], env=env)
        hello = None
        listing = {}
        if proc.returncode == 0:
            listing = json.loads(proc.stdout)
            hello = next((p for p in listing["plugins"] if p["name"] == "hello"), None)
        options = {}
        if hello is not None and len(hello["stages"]) == 1:
            options = {o["name"]: o for o in hello["stages"][0]["options"]}
        tap.ok(hello is not None and hello["file"] == module and hello["version"] == "0.1"
               and hello["stages"][0]["name"] == "hello" and hello["stages"][0]["kind"] == "page"
               and options.get("greeting", {}).get("default") == "hello"
               and options.get("shout", {}).get("type") == "boolean"
               and not listing.get("failed")
               and any(p["name"] == "files" and p["file"].startswith(dest) for p in listing["plugins"]),
               "plugins-json", describe(proc))

        # 6. a workflow using the stage runs, and the stage's facts are archived
        with open(os.path.join(tmp, "hello.workflow"), "w") as f:
            f.write("[workflow]\nname=hello\nsource=files\npage-stages=hello\nworkers=1\n\n"
                    "[hello]\ngreeting=good morning\nshout=true\n")
        archive = os.path.join(tmp, "hello.archive")
        sample = os.path.join(source, "samples", "01-discharge-progress.tif")
        ingest = run([chartdesk, "ingest", "--quiet", "--workflow", "hello", archive, sample], env=env)
        export = run([chartdesk, "export", "--json", archive], env=env)
        facts = []
        for line in export.stdout.splitlines():
            record = json.loads(line)
            for page in record.get("pages", [record]):
                facts.append(page.get("facts", {}))
        tap.ok(ingest.returncode == 0 and export.returncode == 0 and len(facts) > 0
               and all(f.get("hello") == "GOOD MORNING" for f in facts)
               and all(isinstance(f.get("hello-dark-pixels"), int) for f in facts),
               "workflow", describe(ingest) + describe(export))

        # 7. its options are validated like any stage's before a page is read
        proc = run([chartdesk, "ingest", "--quiet", "--workflow", "hello", "--set", "hello.volume=11",
                    os.path.join(tmp, "other.archive"), sample], env=env)
        tap.ok(proc.returncode == 2 and "stage 'hello' has no option 'volume'" in proc.stderr
               and not os.path.exists(os.path.join(tmp, "other.archive")), "unknown-option", describe(proc))

        # 8. an error from the plugin's start reaches the user with the stage's name
        proc = run([chartdesk, "ingest", "--quiet", "--workflow", "hello", "--set", "hello.greeting=",
                    os.path.join(tmp, "third.archive"), sample], env=env)
        tap.ok(proc.returncode != 0 and "hello: the greeting must not be empty" in proc.stderr,
               "start-error", describe(proc))

    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
