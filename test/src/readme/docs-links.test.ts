import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Every relative link of README.md and docs/*.md names a file or directory of the repository,
 * and a `#fragment` into a Markdown file names one of its headings (as GitHub makes their
 * anchors): moving a section, or a page, cannot leave a link behind.
 */
const ROOT = path.resolve(__dirname, '../../..');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes; repeats get -1, -2... */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The links of a Markdown text outside code: [text](target) and [text]: target. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const links = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  links.push(...[...prose.matchAll(/^\[[^\]]+\]:\s+(\S+)/gm)].map((m) => m[1]!));
  return links;
}

async function pages(): Promise<string[]> {
  const docs = (await fs.readdir(path.join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f));
  return ['README.md', ...docs];
}

test('readme/every relative link of README.md and docs/*.md resolves, its #fragment to a heading', async () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of await pages()) {
    const text = await fs.readFile(path.join(ROOT, page), 'utf8');
    for (const link of linksOf(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:...
      checked++;
      const [target, fragment] = link.split('#', 2) as [string, string | undefined];
      const file = target === '' ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), decodeURIComponent(target));
      const exists = await fs.stat(file).then(
        () => true,
        () => false,
      );
      if (!exists || !file.startsWith(ROOT)) {
        broken.push(`${page}: ${link} (no such file)`);
        continue;
      }
      if (fragment !== undefined && file.endsWith('.md') && !anchorsOf(await fs.readFile(file, 'utf8')).has(fragment)) broken.push(`${page}: ${link} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
  expect(checked).toBeGreaterThan(20);
});

test('readme/the link checker finds a missing file and a missing heading', () => {
  expect(anchorsOf('# A\n## The `joinery` command\n## Keys in an HSM: the PKCS#11 vault\n## A\n```\n# not a heading\n```\n')).toEqual(new Set(['a', 'the-joinery-command', 'keys-in-an-hsm-the-pkcs11-vault', 'a-1']));
  expect(linksOf('see [x](docs/a.md#b), `[not](code.md)`, [y](https://e.com)\n```\n[z](in-code.md)\n```\n[ref]: ../LICENSE\n')).toEqual(['docs/a.md#b', 'https://e.com', '../LICENSE']);
});
