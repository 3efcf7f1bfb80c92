#!/usr/bin/env python3
"""Regenerates docs/diagnostics.md from the one diagnostic catalogue (DiagnosticCatalogue.cs).
Run from the repository root: python3 build/diagnostics-doc.py"""
import re

SOURCE = 'src/FisherUnlearn.Lineage/Diagnostics/DiagnosticCatalogue.cs'
RANGES = {'1': 'Manifests and settings', '2': 'Graph and plan', '3': 'Tool and build integration',
          '4': 'Engine: checkpoints, datasets, compute', '5': 'Verification'}

text = open(SOURCE, encoding='utf-8').read()
items = re.findall(r'public static readonly DiagnosticDescriptor (\w+) = (Error|Warning|Info)\(\s*"(FUL\d{4})",\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)"', text)
out = ['# Diagnostics', '',
       'Every problem the tool, the engine and the MSBuild tasks report has a stable code `FULnnnn`. Lines are',
       'canonical, so IDEs, MSBuild and GitHub annotations point at the right file and line:', '', '```',
       "digits-plus-5/digits-plus-5.lineage.json(6,51): error FUL1011: Unknown relation 'fine-tune'. Use one of: finetune, aggregate, transfer, distill, merge.",
       '```', '',
       'Codes are never reused or renumbered. The catalogue lives in one place in the code',
       f'(`{SOURCE}`); a test keeps this page in step with it (regenerate: `python3 build/diagnostics-doc.py`).',
       'Placeholders are shown as `…`. Retired, never to be given another meaning: FUL1018 (settings are checked',
       'parameter by parameter: FUL4102) and FUL5004 (a model verify cannot measure fails with the code of its cause).',
       'FUL4101 (an unknown method) and FUL4026 (an unknown checkpoint extension) come from the engine\'s API: the',
       'command line reports the same mistakes first, as FUL3005 for `--method` and FUL1024 or FUL1020 in a manifest.']
current = None
for _name, severity, code, title, message in sorted(items, key=lambda x: x[2]):
    if code[3] != current:
        current = code[3]
        out += ['', f'## {current}xxx: {RANGES[current]}', '', '| code | severity | title | message |', '|---|---|---|---|']
    message = re.sub(r'\{\d+(:[^}]*)?\}', '…', message).replace('\\"', '"').replace('|', '\\|')
    out.append(f'| {code} | {severity.lower()} | {title} | {message} |')
open('docs/diagnostics.md', 'w', encoding='utf-8').write('\n'.join(out) + '\n')
print(f'{len(items)} codes written to docs/diagnostics.md')
