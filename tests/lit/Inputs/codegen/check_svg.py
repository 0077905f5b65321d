"""Checks a kiln memory SVG against the --memory-report table of the same compilation: the SVG is
well-formed XML, and it has exactly one buffer <rect> (class tensor, view, inplace, slice or
scratch) per row of the table, each with a <title> that starts with that row's tensor name.
Usage: check_svg.py NAME.memory.svg REPORT.txt; prints "svg ok: N buffer rects"."""
import sys
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
svg_path, report_path = sys.argv[1], sys.argv[2]
root = ET.parse(svg_path).getroot()
assert root.tag == NS + 'svg', root.tag
rects = [r for r in root.iter(NS + 'rect')
         if r.get('class') in ('tensor', 'view', 'inplace', 'slice', 'scratch')]
lines = open(report_path).read().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith('tensor '))
rows = []
for l in lines[start + 1:]:
    if l.startswith('arena:'):
        break
    rows.append(l.split()[0])
if len(rects) != len(rows):
    sys.exit(f'{len(rects)} buffer rects, {len(rows)} table rows')
for rect, name in zip(rects, rows):
    title = rect.find(NS + 'title')
    if title is None or not title.text.startswith(name + ':'):
        sys.exit(f'rect for {name!r} has title {title.text if title is not None else None!r}')
print(f'svg ok: {len(rects)} buffer rects')
