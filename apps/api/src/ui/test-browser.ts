import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from '../testing';

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core drives it and downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots the web view tests leave behind (git-ignored), each named for what it shows. */
export const ARTIFACTS = join(ROOT, 'test-artifacts');

export interface Browser {
  context: BrowserContext;
  /** A tab that already holds the API key (as after entering it once); page errors are collected. */
  tab(key?: string, viewport?: { width: number; height: number }): Promise<{ page: Page; errors: string[] }>;
  /** Saves `test-artifacts/<name>.png`. */
  screenshot(page: Page, name: string, fullPage?: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Starts headless Chromium with a throwaway profile. */
export async function startBrowser(viewport = { width: 1280, height: 860 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the web view tests need Debian's chromium (apt-get install -y chromium)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'orch-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async tab(key, size) {
      const page = await context.newPage();
      if (size) await page.setViewportSize(size);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      if (key) {
        await page.addInitScript({ content: `sessionStorage.setItem('orchestrator.apiKey', ${JSON.stringify(key)})` });
      }
      return { page, errors };
    },
    async screenshot(page, name, fullPage = false) {
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface LabelMeasure {
  /** Node labels (task ids, group titles) whose box lies inside the graph's view. */
  visible: number;
  /** The smallest rendered font size and box height of those labels, in CSS px. */
  minFontPx: number;
  minHeightPx: number;
  /** Pairs of visible node boxes that overlap on screen. */
  overlaps: number;
}

/**
 * Measures the graph's node labels as drawn: font size times the SVG's scale, and the label's box on screen.
 * Only labels inside the graph's viewport count: those are what a screenshot shows.
 */
export function measureLabels(page: Page): Promise<LabelMeasure> {
  // A script rather than a function: the tests are type-checked without the DOM's types.
  return page.evaluate(MEASURE_LABELS) as Promise<LabelMeasure>;
}

const MEASURE_LABELS = `(() => {
  const svg = document.querySelector('svg.dag');
  const frame = svg.getBoundingClientRect();
  const inside = (r) => r.left >= frame.left && r.right <= frame.right && r.top >= frame.top && r.bottom <= frame.bottom;
  const boxes = [];
  let minFontPx = Infinity;
  let minHeightPx = Infinity;
  for (const label of svg.querySelectorAll('g.task > .task-id, g.group > .task-id')) {
    const rect = label.getBoundingClientRect();
    if (!inside(rect)) continue;
    const scale = label.getScreenCTM()?.a ?? 1;
    minFontPx = Math.min(minFontPx, Number.parseFloat(getComputedStyle(label).fontSize) * scale);
    minHeightPx = Math.min(minHeightPx, rect.height);
    boxes.push(label.parentElement.querySelector('.box')?.getBoundingClientRect() ?? rect);
  }
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps++;
    }
  }
  return { visible: boxes.length, minFontPx, minHeightPx, overlaps };
})()`;
