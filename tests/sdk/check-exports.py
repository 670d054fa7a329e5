#!/usr/bin/env python3
# The SDK is exactly the installed headers: every function libchartdesk-1.so
# exports is declared in one of them, every function they declare is
# exported, and the engine's internals (raw SQLite handle, batch writing,
# option parsing) are not exported at all.
#   check-exports.py LIBRARY SDK-SYMBOLS-PY HEADER...
import importlib.util
import subprocess
import sys

ENGINE_ONLY = [
    "cd_archive_get_db",
    "cd_archive_begin_batch",
    "cd_archive_commit_document",
    "cd_archive_commit_page",
    "cd_archive_open",
    "cd_param_value_from_string",
    "cd_param_parse_assignment",
    "cd_search_hits_to_json",
    "cd_pipeline_run",
    "cd_workflow_new_from_file",
    "cd_batch_new",
]


def main():
    library, script, headers = sys.argv[1], sys.argv[2], sys.argv[3:]
    spec = importlib.util.spec_from_file_location("sdk_symbols", script)
    sdk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sdk)
    declared = set(sdk.sdk_functions(headers))
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True).stdout
    exported = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "TtDdBbRrVvWw" and not fields[2].startswith("_"):
            exported.add(fields[2].split("@")[0])
    exported.discard("CHARTDESK_1.0")
    failures = []
    for name in sorted(exported - declared):
        failures.append("exported but declared in no installed header: %s" % name)
    for name in sorted(declared - exported):
        failures.append("declared in an installed header but not exported: %s" % name)
    for name in ENGINE_ONLY:
        if name in exported:
            failures.append("engine internal exported: %s" % name)
    print("%d functions exported, %d declared in %d installed headers" % (len(exported), len(declared), len(headers)))
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
