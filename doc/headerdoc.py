#!/usr/bin/env python3
"""headerdoc.py - dbal's reference documentation, read from its headers.

    headerdoc.py check HEADER [--lib LIBRARY.so]... [--alias SYMBOL=NAME]...
    headerdoc.py man HEADER OUTDIR

`check` fails, naming each one, on every public declaration of HEADER that has
no doc comment; with --lib, also on every symbol the library exports (as
`nm -D --defined-only` lists them) that HEADER does not declare DBAL_API, and
on every DBAL_API function of HEADER that the library does not export.
--alias SYMBOL=NAME counts a library's SYMBOL as HEADER's function NAME (a
driver module's dbal_sqlite_driver_entry is its dbal_driver_entry).
`man` writes section 3 manual pages into OUTDIR/man3: the overview, dbal(3)
for dbal.h and dbal_NAME(3) for dbal/NAME.h (dbal_testing(3)), and one page
per documented group of functions, named for its first function, with a
symbolic link for each other function of the group. A header other than
dbal.h takes its version from the dbal.h above it, and its own OUTDIR.

The headers are plain C with plain /* */ comments; no markup is needed.

What is checked: every #define, typedef and function declared at file scope,
except names that start with DBAL__ / dbal__ (internal), the include guard
and `struct x;` forward declarations. A macro defined in several #if
branches counts once, by its first definition. Enumerators and struct fields
are covered by their type's comment.

The rule. A doc comment is a /* */ comment that starts a line and is not a
section rule (`/* ---- name ---- */`). It documents the group that follows
it: the lines after its closing `*/` up to the next blank line, section rule
or doc comment (a comment inside a struct or enum body belongs to that body,
not to the group). In a group:
  - the first declaration is documented by the comment;
  - a later declaration is documented only if the comment names it, either
    exactly or by a prefix pattern ending in `_*` such as `dbal_col_get_*`;
  - any declaration is also documented by a comment of its own after the
    code on its first line (`#define DBAL_TX_READ_ONLY 0x08u /* ... */`).
A declaration with a blank line between it and the comment above it is not
documented. Preprocessor conditionals and `}` lines inside a group do not end
it, so one comment can cover the C and C++ branches of a macro.
"""

import os
import re
import subprocess
import sys

SECTION_RULE = re.compile(r"^/\*\s*-{3,}\s*(.*?)\s*-{3,}\s*\*/$")
IDENT = re.compile(r"[A-Za-z_]\w*")


class Comment:
    def __init__(self, start, raw, leading):
        self.start = start  # first line (0-based)
        self.end = start + raw.count("\n")  # last line
        self.text = comment_body(raw)  # without /* */ and the " * " margin
        self.leading = leading  # nothing but blanks before it on its line
        m = SECTION_RULE.match(raw.strip())
        self.section = m.group(1) if m else None  # "engine" for a section rule


class Decl:
    def __init__(self, kind, name, start, end):
        self.kind = kind  # macro, function, inline, type
        self.name = name
        self.start = start
        self.end = end
        self.exported = False  # declared DBAL_API
        self.lines = []  # source lines, comments kept
        self.group = None
        self.doc_reason = None  # why it counts as documented, or None


class Group:
    """A doc comment and the declarations it covers."""

    def __init__(self, comment, section):
        self.comment = comment
        self.section = section
        self.decls = []


def comment_body(raw):
    out = []
    for k, ln in enumerate(raw[2:-2].split("\n")):
        if k > 0 and ln.lstrip().startswith("*"):
            ln = ln.split("*", 1)[1]
        out.append((ln[1:] if ln.startswith(" ") else ln).rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def scan(text):
    """Splits text into comments and code: returns (comments, code_lines),
    where code_lines are the source lines with comments blanked out."""
    comments = []
    code = list(text)
    i, n = 0, len(text)
    line = 0
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                code[k] = " "
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise SystemExit("unterminated comment at line %d" % (line + 1))
            j += 2
            raw = text[i:j]
            bol = text.rfind("\n", 0, i) + 1
            leading = text[bol:i].strip() == ""
            cm = Comment(line, raw, leading)
            comments.append(cm)
            for k in range(i, j):
                if code[k] != "\n":
                    code[k] = " "
            line = cm.end
            i = j
        else:
            i += 1
    return comments, "".join(code).split("\n")


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    src = text.split("\n")
    comments, code = scan(text)
    decls = []
    guard = None
    i = 0
    while i < len(code):
        s = code[i].strip()
        if not s:
            i += 1
            continue
        if s.startswith("#"):
            start = i
            while code[i].rstrip().endswith("\\"):
                i += 1
            m = re.match(r"#\s*(\w+)\s*(\w*)", s)
            directive, name = m.group(1), m.group(2)
            if directive == "ifndef" and guard is None:
                guard = name
            if directive == "define" and name != guard:
                d = Decl("macro", name, start, i)
                d.lines = src[start:i + 1]
                decls.append(d)
            i += 1
            continue
        if s.startswith("extern \"C\"") or s == "}":
            i += 1
            continue
        # A C declaration: up to a ';' at depth 0, or the closing brace of a
        # function body.
        start = i
        depth = 0
        buf = []
        done = False
        while i < len(code) and not done:
            ln = code[i]
            for ch in ln:
                buf.append(ch)
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        head = "".join(buf).split("{", 1)[0]
                        if "(" in head and not head.lstrip().startswith("typedef"):
                            done = True
                            break
                elif ch == ";" and depth == 0:
                    done = True
                    break
            buf.append("\n")
            i += 1
        decl_text = " ".join("".join(buf).split())
        d = classify(decl_text, start, i - 1)
        if d:
            d.lines = src[start:i]
            decls.append(d)
    return src, comments, decls


def classify(t, start, end):
    if re.match(r"struct\s+\w+\s*;$", t):
        return None  # forward declaration
    if t.startswith("typedef"):
        m = re.search(r"\(\s*\*\s*(\w+)\s*\)", t)
        if m and "{" not in t:
            d = Decl("type", m.group(1), start, end)
        else:
            d = Decl("type", IDENT.findall(t.rstrip(";"))[-1], start, end)
        return d
    head = t.split("{", 1)[0]
    if "(" in head:
        name = IDENT.findall(head.split("(", 1)[0])[-1]
        kind = "inline" if re.search(r"\binline\b", head) else "function"
        d = Decl(kind, name, start, end)
        d.exported = head.startswith("DBAL_API")
        return d
    return None


def internal(name):
    return name.lower().startswith("dbal__")


def names_in(text):
    exact = set(IDENT.findall(text))
    prefixes = re.findall(r"(\w+_)\*", text)  # DBAL_TX_*, dbal_col_get_*
    return exact, prefixes


def group_decls(src, comments, decls):
    """Attaches each declaration to the doc comment above it, if any, and
    decides whether it is documented."""
    by_line = {}
    for d in decls:
        for ln in range(d.start, d.end + 1):
            by_line[ln] = d
    comment_end = {}
    inner = set()
    for c in comments:
        owner = by_line.get(c.start)
        if owner and owner.start < c.start:
            inner.add(id(c))  # inside a struct or enum body
        if c.leading and id(c) not in inner:
            comment_end[c.end] = c
    trailing = {}
    for c in comments:
        if not c.leading:
            trailing.setdefault(c.start, c)

    section = None
    sections = {}
    for c in comments:
        if c.leading and c.section is not None:
            sections[c.start] = c.section

    groups = []
    current = None
    decl_at = {d.start: d for d in decls}
    ln = 0
    while ln < len(src):
        if ln in sections:
            section = sections[ln]
            current = None
            ln += 1
            continue
        if ln in comment_end:
            c = comment_end[ln]
            current = Group(c, section) if c.section is None else None
            if current:
                groups.append(current)
            ln += 1
            continue
        if not src[ln].strip():
            current = None
            ln += 1
            continue
        d = decl_at.get(ln)
        if d:
            d.section = section
            if current is not None:
                first = not current.decls
                current.decls.append(d)
                d.group = current
                exact, prefixes = names_in(current.comment.text)
                if first:
                    d.doc_reason = "first after its comment"
                elif d.name in exact or any(d.name.startswith(p) for p in prefixes):
                    d.doc_reason = "named by its group's comment"
            tc = trailing.get(d.start)
            if d.doc_reason is None and tc is not None:
                d.doc_reason = "own comment on its line"
            ln = d.end + 1
            continue
        ln += 1
    return groups


def load(path):
    src, comments, decls = parse(path)
    groups = group_decls(src, comments, decls)
    top = comments[0] if comments and comments[0].start == 0 else None
    return src, top, groups, decls


# ---- check ----------------------------------------------------------------------


def exported_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                         text=True).stdout
    syms = set()
    for ln in out.splitlines():
        parts = ln.split()
        if len(parts) == 3 and parts[1] in "TtWDdBRrVvui":
            syms.add(parts[2].split("@", 1)[0])
    return syms


def check(header, libs, aliases):
    src, top, groups, decls = load(header)
    problems = []
    seen = {}
    for d in decls:
        if internal(d.name):
            continue
        if d.name in seen:
            # A second definition in another #if branch: the first one counts.
            continue
        seen[d.name] = d
        if d.doc_reason is None:
            why = "no doc comment above it"
            if d.group is not None:
                why = ("in the group of the comment at line %d, which does not name it"
                       % (d.group.comment.start + 1))
            problems.append("%s:%d: %s %s: undocumented (%s)" % (header, d.start + 1, d.kind, d.name, why))
    if top is None:
        problems.append("%s:1: no comment at the top of the header" % header)
    api = {d.name for d in decls if d.kind == "function" and d.exported}
    for lib in libs:
        syms = {aliases.get(s, s) for s in exported_symbols(lib)}
        for s in sorted(syms - api):
            where = "declared without DBAL_API" if s in seen else "not declared"
            problems.append("%s: exports %s, %s in %s" % (lib, s, where, header))
        for s in sorted(api - syms):
            problems.append("%s:%d: %s is DBAL_API but %s does not export it"
                            % (header, seen[s].start + 1, s, lib))
    for p in problems:
        print(p)
    kinds = {}
    for d in seen.values():
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    summary = ", ".join("%d %s" % (v, k + ("s" if v != 1 else "")) for k, v in sorted(kinds.items()))
    if problems:
        print("%s: %d problem(s) among %s" % (header, len(problems), summary))
        return 1
    print("%s: all documented: %s in %d groups" % (header, summary, len(groups)))
    for lib in libs:
        print("%s: exports exactly the %d DBAL_API functions of %s" % (lib, len(api), header))
    return 0


# ---- man pages --------------------------------------------------------------------


def esc(s):
    """Prose for a roff text line: `name` in italics, name() in bold, a
    minus sign (not a hyphen) where a dash starts a word."""
    s = s.replace("\\", "\\e")
    s = re.sub(r"(?<![A-Za-z0-9])-", r"\\-", s)
    s = re.sub(r"`([^`]+)`", r"\\fI\1\\fP", s)
    s = re.sub(r"\b([A-Za-z_]\w*)\(\)", r"\\fB\1\\fP()", s)
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def code_esc(s):
    """A line of code, kept as it is."""
    s = s.replace("\\", "\\e").replace("-", "\\-")
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def prose(text):
    """Plain comment text to roff: paragraphs, lists (lines starting "- "),
    and indented blocks (kept as they are)."""
    out = []
    mode = None  # "p", "list", "pre"
    for ln in text.split("\n"):
        if not ln.strip():
            if mode == "pre":
                out.append(".fi")
                out.append(".in")
            mode = None
            continue
        stripped = ln.lstrip()
        indent = len(ln) - len(stripped)
        item = re.match(r"-\s+", stripped)
        if item and indent <= 4:
            if mode == "pre":
                out += [".fi", ".in"]
            out.append(".IP \\(bu 2")
            out.append(esc(stripped[item.end():]))
            mode = "list"
        elif mode == "list" and indent >= 2:
            out.append(esc(stripped))
        elif indent >= 2 and mode != "list":
            if mode != "pre":
                out += [".PP", ".in +4n", ".nf"]
                mode = "pre"
            out.append(code_esc(ln[2:] if ln.startswith("  ") else ln))
        else:
            if mode == "pre":
                out += [".fi", ".in"]
                mode = None
            if mode != "p":
                out.append(".PP")
                mode = "p"
            out.append(esc(stripped))
    if mode == "pre":
        out += [".fi", ".in"]
    return out


def first_sentence(text):
    """The first sentence of a comment, cut at a colon or semicolon when it
    is long."""
    flat = " ".join(text.split())
    depth = 0
    cut = None
    for i, ch in enumerate(flat):
        depth += ch in "([" and 1 or ch in ")]" and -1 or 0
        if depth:
            continue
        if ch == "." and (i + 1 == len(flat) or flat[i + 1] == " ") and not flat[:i].endswith("e.g"):
            flat = flat[:i]
            break
        if ch in ":;" and cut is None and i >= 15:
            cut = i
    if len(flat) > 80 and cut is not None:
        flat = flat[:cut]
    return flat


def summary(text, names=()):
    """A NAME line's description: the first sentence, without the page's own
    names it may start with ("dbal_x() and dbal_y() read..." -> "read..."),
    starting in lower case."""
    s = first_sentence(text)
    m = re.match(r"((\w+)\(\)(, | and )?)+\s*(is )?", s)
    if m and set(re.findall(r"(\w+)\(\)", m.group(0))) <= set(names):
        s = s[m.end():]
    s = s.replace("`", "")
    word = s.split(" ", 1)[0]
    if word[:1].isupper() and (len(word) == 1 or word[1:].islower()):
        s = s[0].lower() + s[1:]
    return s


def synopsis_lines(d, branches=1):
    """What a page's SYNOPSIS shows of a declaration: a macro defined in
    several #if branches, or over several lines, by its name only."""
    if d.kind == "macro":
        first = d.lines[0].split("/*", 1)[0].rstrip()
        if branches > 1:
            m = re.match(r"\s*#\s*define\s+(\w+(\([^)]*\))?)", first)
            return ["#define %s" % m.group(1)]
        if first.endswith("\\"):
            m = re.match(r"\s*#\s*define\s+(\w+(\([^)]*\))?)", first)
            return ["#define %s ..." % m.group(1)]
        return [d.lines[0].rstrip()]
    if d.kind == "inline":
        head = " ".join(" ".join(d.lines).split("{", 1)[0].split())
        return [head + ";"]
    lines = [ln.replace("DBAL_API ", "") for ln in d.lines]
    # Continuation lines were aligned under DBAL_API's column.
    out = [lines[0]]
    for ln in lines[1:]:
        out.append(ln[9:] if d.exported and ln.startswith(" " * 9) else ln)
    return out


class Page:
    def __init__(self, name, group):
        self.name = name
        self.group = group
        self.types = []  # type and macro groups shown with it
        self.functions = []


def page_header(name, version, names, what):
    return [
        '.TH %s 3 "" "dbal %s" "dbal manual"' % (name.upper(), version),
        ".SH NAME",
        # No fonts here: whatis and apropos read this line as it is.
        "%s \\- %s" % (", ".join(names), esc(what).replace("\\fB", "").replace("\\fP", "")),
    ]


def see(names):
    """.BR arguments for name(3), name(3), ... on one line."""
    args = []
    for i, n in enumerate(names):
        args.append(n)
        args.append('"(3)%s"' % (", " if i + 1 < len(names) else ""))
    return ".BR " + " ".join(args)


def write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def code_block(lines):
    out = [".PP", ".nf"]
    out += [code_esc(ln) for ln in lines]
    out.append(".fi")
    return out


def overview_of(header):
    """dbal for dbal.h; dbal_testing for dbal/testing.h."""
    stem = os.path.splitext(os.path.basename(header))[0]
    return "dbal" if stem == "dbal" else "dbal_" + stem


def sibling_version(header):
    """DBAL_VERSION of the dbal.h above a sub-header, or "?"."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(header))), "dbal.h")
    try:
        with open(path, encoding="utf-8") as f:
            m = re.search(r'#define DBAL_VERSION "([^"]*)"', f.read())
            return m.group(1) if m else "?"
    except OSError:
        return "?"


def man(header, outdir):
    src, top, groups, decls = load(header)
    overview = overview_of(header)
    version = "?" if overview == "dbal" else sibling_version(header)
    codes = []
    for d in decls:
        if d.name == "DBAL_VERSION" and d.kind == "macro":
            version = d.lines[0].split('"')[1]
        if d.name == "DBAL_CODE_MAP":
            for ln in d.lines:
                m = re.search(r'X\((\w+),\s*(\d+),\s*"([^"]*)"\)', ln)
                if m:
                    codes.append(("DBAL_" + m.group(1), m.group(2), m.group(3)))
    branches = {}
    for d in decls:
        branches[d.name] = branches.get(d.name, 0) + 1
    hname = os.path.relpath(header, os.path.dirname(os.path.dirname(header)))
    include = "#include <%s>" % ("dbal.h" if os.path.basename(header) == "dbal.h" else hname)

    # One page per group that declares a public function; the type and macro
    # groups before it in the same section are shown on it, those before the
    # first section on dbal(3).
    pages = []
    overview_types = []
    pending = []
    for g in groups:
        public = [d for d in g.decls if not internal(d.name)]
        fns = [d for d in public if d.kind in ("function", "inline")]
        if not public:
            continue
        if g.section is None and not fns:
            overview_types.append(g)
            continue
        if not fns:
            pending.append(g)
            continue
        p = Page(fns[0].name, g)
        p.functions = fns
        p.types = [t for t in pending if t.section == g.section]
        pending = []
        pages.append(p)

    mandir = os.path.join(outdir, "man3")
    os.makedirs(mandir, exist_ok=True)
    for f in os.listdir(mandir):
        if f.endswith(".3"):
            os.remove(os.path.join(mandir, f))  # pages of names now gone

    sections = []
    for p in pages:
        if p.group.section not in sections:
            sections.append(p.group.section)

    for p in pages:
        g = p.group
        names = [d.name for d in p.functions]
        lines = page_header(p.name, version, names, summary(g.comment.text, names))
        lines += [".SH SYNOPSIS", ".nf", ".B %s" % include, ".fi"]
        shown = set()
        for t in p.types + [g]:
            block = []
            for d in t.decls:
                if internal(d.name) or d.name in shown:
                    continue
                shown.add(d.name)
                block += synopsis_lines(d, branches[d.name])
            if block:
                lines += code_block(block)
        lines.append(".SH DESCRIPTION")
        for t in p.types:
            lines += prose(t.comment.text)
        lines += prose(g.comment.text)
        related = [q.name for q in pages if q.group.section == g.section and q is not p]
        lines.append(".SH SEE ALSO")
        lines.append(see([overview] + related))
        write(os.path.join(mandir, p.name + ".3"), lines)
        # Other names of the page are symbolic links, which Debian prefers to
        # .so requests and which `man -l` follows from any directory.
        for d in p.functions[1:]:
            os.symlink(p.name + ".3", os.path.join(mandir, d.name + ".3"))

    # The overview: the header's top comment, its types, the codes, the functions.
    lines = page_header(overview, version, [overview], top.text.split("\n", 1)[0].split(" - ", 1)[-1].rstrip("."))
    pc = overview.replace("_", "\\-")
    lines += [".SH SYNOPSIS", ".nf", ".B %s" % include, ".fi", ".PP",
              "Compile and link with",
              ".BR \"$(pkg\\-config \\-\\-cflags \\-\\-libs %s)\" ." % pc]
    lines.append(".SH DESCRIPTION")
    body = top.text.split("\n", 1)[1] if " - " in top.text.split("\n", 1)[0] else top.text
    lines += prose(body)
    lines.append(".SH DATA TYPES")
    shown = set()
    for g in overview_types:
        block = []
        for d in g.decls:
            if internal(d.name) or d.name in shown or d.name == "DBAL_CODE_MAP":
                continue
            shown.add(d.name)
            if d.name == "dbal_code":
                # Its body is generated by DBAL_CODE_MAP: show the result.
                block += ["typedef enum dbal_code {"]
                block += ["    %s = %s," % (c[0], c[1]) for c in codes]
                block += ["} dbal_code;"]
                continue
            block += synopsis_lines(d, branches[d.name])
        if block:
            lines += code_block(block)
        lines += prose(g.comment.text)
    if codes:
        lines += errors_section(codes)
    lines += functions_section(sections, pages)
    lines.append(".SH SEE ALSO")
    if overview == "dbal":
        lines.append(see(["dbal_engine_open", "dbal_session_open", "dbal_exec", "dbal_query", "dbal_transact"]))
    else:
        lines.append(see(["dbal"] + [p.name for p in pages]))
    write(os.path.join(mandir, overview + ".3"), lines)
    return 0


def errors_section(codes):
    lines = [".SH ERRORS"]
    lines.append(".PP")
    lines.append("Every fallible call returns one of these codes (a")
    lines.append(".BR dbal_code );")
    lines.append(".B dbal_strerror()")
    lines.append("gives the text, ")
    lines.append(".B dbal_code_name()")
    lines.append("the name.")
    for name, value, text in codes:
        lines += [".TP", ".BR %s \" (%s)\"" % (name, value), esc(text)]
    return lines


def functions_section(sections, pages):
    lines = [".SH FUNCTIONS"]
    for sec in sections:
        lines += [".SS %s" % esc(sec.capitalize() if sec else "General")]
        for p in pages:
            if p.group.section != sec:
                continue
            lines.append(".TP")
            lines.append(see([d.name for d in p.functions]))
            what = summary(p.group.comment.text, [d.name for d in p.functions])
            lines.append(esc(what[:1].upper() + what[1:]) + ".")
    return lines


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        libs = []
        aliases = {}
        args = argv[1:]
        while "--lib" in args:
            k = args.index("--lib")
            libs.append(args[k + 1])
            del args[k:k + 2]
        while "--alias" in args:
            k = args.index("--alias")
            symbol, name = args[k + 1].split("=", 1)
            aliases[symbol] = name
            del args[k:k + 2]
        return check(args[0], libs, aliases)
    if len(argv) == 3 and argv[0] == "man":
        return man(argv[1], argv[2])
    sys.stderr.write(__doc__.split("\n\n", 2)[1] + "\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
