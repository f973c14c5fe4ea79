"""Runs an mpp job and its Python twin and checks they print the same thing.

    compare_with_python.py [--unordered-lists] [--mask-names] -- <mpp command...> -- <python command...>

Timing lines (containing "time" or "costs") are dropped; the remaining lines are compared as
multisets, since parallel tasks print in any order. --unordered-lists also sorts the elements
of printed lists, for results collected in completion order. --mask-names replaces the process
or thread name that starts a line "<name> <number>" (ForkPoolWorker-3, Thread-2 (worker)), since
Python and mpp name their processes and threads differently.
"""
import re
import subprocess
import sys


def normalise(output, unordered_lists, mask_names):
    lines = []
    for line in output.splitlines():
        if "time" in line or "costs" in line or not line.strip():
            continue
        if mask_names:
            line = re.sub(r"^\S+(?: \(\w+\))? (\d+)$", r"NAME \1", line.strip())
        if unordered_lists and line.startswith("[") and line.endswith("]"):
            items = sorted(x.strip() for x in line[1:-1].split(",") if x.strip())
            line = "[" + ", ".join(items) + "]"
        lines.append(re.sub(r"\s+", " ", line.strip()))
    return sorted(lines)


def main():
    args = sys.argv[1:]
    unordered = "--unordered-lists" in args
    mask_names = "--mask-names" in args
    args = [a for a in args if a not in ("--unordered-lists", "--mask-names")]
    first = args.index("--")
    second = args.index("--", first + 1)
    ours_cmd, theirs_cmd = args[first + 1:second], args[second + 1:]
    ours = subprocess.run(ours_cmd, capture_output=True, text=True, timeout=300)
    theirs = subprocess.run(theirs_cmd, capture_output=True, text=True, timeout=300)
    print("--- mpp\n" + ours.stdout + ours.stderr + "--- python\n" + theirs.stdout + theirs.stderr)
    if ours.returncode != 0 or theirs.returncode != 0:
        print(f"exit codes: mpp {ours.returncode}, python {theirs.returncode}")
        return 1
    a, b = normalise(ours.stdout, unordered, mask_names), normalise(theirs.stdout, unordered, mask_names)
    if a != b:
        print("outputs differ:\n  mpp:    %s\n  python: %s" % (a, b))
        return 1
    print("same output (%d lines)" % len(a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
