#!/usr/bin/python3
"""Catch test names that ctest cannot carry: tests/CMakeLists.txt registers every TEST_CASE as a
ctest test of the same name and runs it with the name as the Catch filter. A ';' splits the name
into two arguments (CMake lists), a leading '-' reads as an option, a backslash or a leading '['
or '~' changes the filter, and a name that is not unique runs two tests.

    python3 tests/layout/check_test_names.py ROOT
"""
import pathlib
import re
import sys

# TEST_CASE( then one or more adjacent string literals (the name).
TEST_CASE = re.compile(r'\bTEST_CASE\s*\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def names(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    for match in TEST_CASE.finditer(text):
        # The name as Catch sees it: C escapes (\" and \\) undone.
        raw = "".join(LITERAL.findall(match.group(1)))
        name = re.sub(r"\\(.)", r"\1", raw)
        line = text.count("\n", 0, match.start()) + 1
        yield name, line


def problem(name):
    if ";" in name:
        return "contains ';' (CMake splits it)"
    if "\\" in name:
        return "contains a backslash"
    if name[:1] in ("-", "[", "~", " "):
        return f"starts with {name[:1]!r} (read as an option or a filter)"
    if name != name.strip():
        return "ends with a space"
    return None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    seen, bad, count = {}, [], 0
    for path in sorted((root / "tests").rglob("*.cpp")):
        if "fuzz" in path.parts:
            continue
        for name, line in names(path):
            count += 1
            where = f"{path.relative_to(root)}:{line}"
            why = problem(name)
            if why:
                bad.append(f"{where}: {name!r} {why}")
            if name in seen:
                bad.append(f"{where}: {name!r} is also the name of {seen[name]}")
            seen.setdefault(name, where)
    if count == 0:
        print("check_test_names: no TEST_CASE found; run from the repository root", file=sys.stderr)
        return 2
    for line in bad:
        print(line)
    print(f"check_test_names: {count} test names, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
