#!/usr/bin/env python3
"""Architecture facts of a checkout: file-level import circles per crate (strongly connected
components of more than one file in the graph of `crate::<module>` paths in code: comments,
docs and `#[cfg(test)]` modules left out), .rs files over 400 lines (src and tests), and
integration test executables.

usage: python3 scripts/architecture-facts.py [REPO]   (default: this checkout)"""
import os, re, sys
repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
crates = os.path.join(repo, 'crates')
circles = []
long_files = []
test_exes = 0
for c in sorted(os.listdir(crates)):
    src = os.path.join(crates, c, 'src')
    if not os.path.isdir(src):
        continue
    # module name -> file: top-level modules only (src/x.rs or src/x/mod.rs, and files inside x/)
    files = {}
    for root, _, names in os.walk(src):
        for n in names:
            if n.endswith('.rs'):
                p = os.path.join(root, n)
                rel = os.path.relpath(p, src)[:-3].replace(os.sep, '::')
                if rel.endswith('::mod'): rel = rel[:-5]
                files[rel] = p
    graph = {m: set() for m in files}
    for m, p in files.items():
        # Code only: comment and doc lines, and #[cfg(test)] modules (tests may look anywhere),
        # are no import.
        text = open(p).read().split('#[cfg(test)]')[0]
        text = '\n'.join(l for l in text.splitlines() if not l.lstrip().startswith('//'))
        # `use crate::{a, b::c}` groups: each item a reference.
        for group in re.findall(r'use crate::\{([^}]*)\}', text, re.S):
            for item in group.split(','):
                item = item.strip().split(' as ')[0]
                if item: text += '\ncrate::' + item
        for ref in re.findall(r'crate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)', text):
            parts = ref.split('::')
            # longest prefix that is a file module
            target = None
            for k in range(len(parts), 0, -1):
                cand = '::'.join(parts[:k])
                if cand in files:
                    target = cand; break
            if target and target != m and not m.startswith(target + '::') and not target.startswith(m + '::'):
                graph[m].add(target)
    # Tarjan
    index = {}; low = {}; stack = []; on = set(); sccs = []; i = [0]
    sys.setrecursionlimit(10000)
    def strong(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(sorted(comp))
    for v in graph:
        if v not in index: strong(v)
    for s in sccs: circles.append(f'{c}: ' + ' <-> '.join(s))
    for root, _, names in os.walk(os.path.join(crates, c)):
        if '/target' in root: continue
        for n in names:
            if n.endswith('.rs'):
                p = os.path.join(root, n)
                lines = sum(1 for _ in open(p))
                if lines > 400: long_files.append((lines, os.path.relpath(p, repo)))
    tests = os.path.join(crates, c, 'tests')
    if os.path.isdir(tests):
        for n in os.listdir(tests):
            if n.endswith('.rs') or os.path.isfile(os.path.join(tests, n, 'main.rs')):
                test_exes += 1
print('import circles:', len(circles))
for s in circles: print('  ', s)
print('files over 400 lines:', len(long_files))
for l, p in sorted(long_files, reverse=True): print('  ', l, p)
print('integration test executables:', test_exes)
