/**
 * Layout of the SVG ladder, checked geometrically on the demo's chapters and a lossy bulk transfer:
 * no label covers another label or any arrow's visible length, and time is linear (one scale) and
 * monotonic within each unbroken span, with breaks only where nothing is in flight.
 *
 * The checks read the SVG as a browser would (text position, rotation, length of its characters in the
 * monospace font at 0.6 em per character) and sample points, independently of how the renderer placed
 * things.
 */
import { describe, expect, it } from 'vitest';
import { runSeedStory } from '../../src/sim/scenarios/seed-story/seed-story.js';
import { TransferScenario } from '../../src/sim/scenarios/transfer.js';
import { calloutBaselines } from '../../src/viz/svg/label-geometry.js';
import { renderLadderSvg } from '../../src/viz/svg/ladder-svg.js';
import { checkLayout, checkTimeScale } from './ladder-geometry-check.js';

describe('the SVG ladder layout', () => {
  const story = runSeedStory({ seed: 1 });
  const conversation = story.stage.network.conversation();

  for (const chapter of story.chapters) {
    it(`chapter ${chapter.number} (${chapter.title}): labels cover nothing; time is linear per span`, () => {
      const svg = renderLadderSvg(conversation, {
        hosts: ['client', 'server'],
        from: chapter.from,
        to: chapter.to,
      });
      checkLayout(svg, `chapter ${chapter.number}`);
      checkTimeScale(svg, conversation, `chapter ${chapter.number}`);
    });
  }

  it('a lossy bulk transfer (the first 200 packets): the same holds', () => {
    const scenario = new TransferScenario({ clientBytes: 200_000, serverBytes: 0, seed: 7, loss: 0.03 });
    scenario.runToEnd();
    const c = scenario.network.conversation();
    const svg = renderLadderSvg(c, { maxPackets: 200 });
    // Too dense to label every arrow along it: those labels go to the column beside the ladder, tied to
    // their arrows by leaders; no label covers another or an arrow.
    checkLayout(svg, 'bulk');
    expect(svg).toContain('data-callout=""');
    expect(svg).toContain('class="label-leader"');
    checkTimeScale(svg, c, 'bulk');
  });

  it('cuts the 60 s TIME-WAIT out as a break that says how long it is', () => {
    const six = story.chapters[5]!;
    const svg = renderLadderSvg(conversation, { hosts: ['client', 'server'], from: six.from, to: six.to });
    const hidden = [...svg.matchAll(/class="time-break" data-hidden-ms="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(hidden.some((h) => h > 59_000)).toBe(true);
    expect(svg).toContain('≈ 60 s without a packet');
  });

  it('draws the burst of chapter 2 as one arrow', () => {
    const two = story.chapters[1]!;
    const svg = renderLadderSvg(conversation, { hosts: ['client', 'server'], from: two.from, to: two.to });
    expect(svg).toMatch(
      /class="packet packet-data packet-burst" data-packet="\d+" data-packets="\d+ \d+ \d+"/,
    );
    expect(svg).toContain('>ACK seq=1:3073 ack=1 win=65535 len=3×1024<');
  });
});

describe('calloutBaselines (the column of labels crowded out of a dense burst)', () => {
  it('puts each label at its anchor when there is room, else one line (ascent + descent + 2) below the last', () => {
    // Anchors 0, 5 (too close: pushed to 0+4.5+14), 100 (room: at its own height), 101 (pushed again).
    expect(calloutBaselines([0, 5, 100, 101], 9, 3)).toEqual([4.5, 18.5, 104.5, 118.5]);
    expect(calloutBaselines([], 9, 3)).toEqual([]);
  });
});
