"""Counts test cases across meson's test logs and prints `N passed, N failed` last.

doctest and Python unittest report their own case counts; any other test counts as one
case. A test whose binary failed but whose output shows no failed case counts one failure,
so a crash is never hidden.
"""
import json
import re
import sys

DOCTEST = re.compile(r"test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed")
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests?", re.M)
UNITTEST_FAILED = re.compile(r"^FAILED \(([^)]*)\)", re.M)


def count(entry):
    out = (entry.get("stdout") or "") + (entry.get("stderr") or "")
    ok = entry.get("result") in ("OK", "EXPECTEDFAIL")
    m = DOCTEST.findall(out)
    if m:
        passed = sum(int(x[1]) for x in m)
        failed = sum(int(x[2]) for x in m)
    elif UNITTEST_RAN.search(out):
        ran = sum(int(x) for x in UNITTEST_RAN.findall(out))
        failed = 0
        for group in UNITTEST_FAILED.findall(out):
            failed += sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", group))
        passed = ran - failed
    else:
        passed, failed = (1, 0) if ok else (0, 1)
    if not ok and failed == 0:
        failed = 1
    return passed, failed


def main(argv):
    passed = failed = 0
    extras = []
    args = iter(argv[1:])
    for arg in args:
        if arg == "--extra":
            extras.append(next(args))
            continue
        try:
            with open(arg) as f:
                for line in f:
                    p, fl = count(json.loads(line))
                    passed += p
                    failed += fl
                    if fl:
                        print(f"failed: {json.loads(line)['name']} ({arg})")
        except FileNotFoundError:
            print(f"missing test log {arg}")
            failed += 1
    for extra in extras:
        name, result = extra.split(":")
        if result == "pass":
            passed += 1
        else:
            failed += 1
            print(f"failed: {name}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


sys.exit(main(sys.argv))
