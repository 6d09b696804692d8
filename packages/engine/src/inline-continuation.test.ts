import { type Carry, startingBeside } from './inline-continuation';
import type { StartTaskInput, StartTaskReply } from './script-inputs';

const input = (taskId: string): StartTaskInput => ({ taskId, attempt: 1, worker: 'w', wanted: ['a'], reads: [] });
const reply: StartTaskReply = { runStatus: 'running', attempt: 1, statuses: ['completed'], outputs: [] };

function carryWithSlots(): { carry: Carry; returned: () => number } {
  let returned = 0;
  const carry: Carry = { inline: true, slots: { borrow: () => true, giveBack: () => void returned++ } };
  return { carry, returned: () => returned };
}

describe('startingBeside', () => {
  it('runs the branches the completion started beside the next task and gives back the others’ slots', async () => {
    const { carry, returned } = carryWithSlots();
    const started = new Map([['c', reply]]);
    const result = await startingBeside(carry, [input('c'), input('e')], async () => ({ started, ready: ['e'] }));
    expect(result.ready).toEqual(['e']);
    expect(carry.branches).toEqual(['c']);
    expect(carry.primed?.get('c')).toBe(reply);
    expect(returned()).toBe(1);
  });

  it('gives back every borrowed slot when the completion fails', async () => {
    const { carry, returned } = carryWithSlots();
    await expect(
      startingBeside(carry, [input('c'), input('e')], async (): Promise<{ started: Map<string, StartTaskReply> }> => {
        throw new Error('Connection is closed.');
      }),
    ).rejects.toThrow('Connection is closed.');
    expect([carry.branches, returned()]).toEqual([undefined, 2]);
  });
});
