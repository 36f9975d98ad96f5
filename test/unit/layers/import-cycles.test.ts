import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Every .ts file under dir. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The layer a file of src/ belongs to: its folder under src/, or the file itself for one at the top (src/fleet.ts). */
function layerOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length === 0 ? (first as string) : `${first}/`;
}

/** Relative specifiers of static imports, re-exports and dynamic import() calls, type-only ones included. */
export function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm))
    found.push(match[1] as string);
  return found;
}

/** Layer -> the layers its files import. */
function layerGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = layerOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(SRC + path.sep)) continue;
      const to = layerOf(target);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Strongly connected components with more than one layer: each is a set of layers that import each other. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, indices.get(next) as number));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

test('the import scanner sees static, type-only, re-exported and dynamic imports', () => {
  const text = `import a from './a.ts';\nimport type { B } from '../b/b.ts';\nexport { c } from './c.ts';\nconst d = await import('./d.ts');\nimport './e.ts';\nimport pg from 'pg';`;
  expect(relativeImports(text)).toEqual(['./a.ts', '../b/b.ts', './c.ts', './d.ts', './e.ts']);
});

test('the cycle finder reports layers that import each other', () => {
  const graph = new Map([
    ['a/', new Set(['b/'])],
    ['b/', new Set(['c/'])],
    ['c/', new Set(['a/'])],
    ['d/', new Set(['a/'])],
  ]);
  expect(cycles(graph)).toEqual([['a/', 'b/', 'c/']]);
});

test('no folder of src/ imports a folder that imports it back', () => {
  const graph = layerGraph();
  expect(graph.size).toBeGreaterThan(5);
  const found = cycles(graph).map((layers) =>
    layers.map((layer) => `${layer} -> ${[...(graph.get(layer) ?? [])].filter((to) => layers.includes(to)).join(', ')}`),
  );
  expect(found).toEqual([]);
});
