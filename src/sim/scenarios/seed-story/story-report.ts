/**
 * The seed's story as one self-contained HTML report: a ladder diagram per chapter with its explanation,
 * then the charts, state timelines, counters and packet table of the whole run. Browser-safe.
 */
import { renderHtmlReport } from '../../../viz/html-report.js';
import { CLIENT, CLIENT_ADDRESS, SERVER, SERVER_ADDRESS } from '../two-hosts.js';
import type { SeedStory } from './seed-story.js';
import { STORY_DELAY_MS, STORY_MTU } from './story-stage.js';

export const STORY_TITLE = 'tcpts demo: the story of TCP and UDP';

export function storyDescription(story: SeedStory): string {
  return (
    `Two simulated hosts, ${CLIENT} (${CLIENT_ADDRESS}) and ${SERVER} (${SERVER_ADDRESS}), on one cable ` +
    `with ${STORY_DELAY_MS} ms of delay each way and an MTU of ${STORY_MTU} bytes (so a TCP segment ` +
    `carries at most ${STORY_MTU - 40} bytes), seed ${story.settings.seed}. ` +
    'Every packet below was sent by the tcpts TCP/IP stack on virtual time; losses were chosen by the ' +
    'script, everything else is the protocol at work.'
  );
}

export function renderStoryReport(story: SeedStory): string {
  const network = story.stage.network;
  return renderHtmlReport(network.conversation(), {
    title: STORY_TITLE,
    description: storyDescription(story),
    hosts: [CLIENT, SERVER],
    counters: network.counters(),
    chapters: story.chapters.map((c) => ({
      title: `${c.number}. ${c.title}`,
      caption: `${c.summary} ${c.explanation}`,
      from: c.from,
      to: c.to,
    })),
  });
}
