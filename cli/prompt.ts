/**
 * The one question the CLI asks a person: whether to apply a plan made just now (Terraform's
 * habit). Asked only when stdin is a terminal; a pipe, CI or a daemon is never asked, so a
 * script cannot hang on a question nobody sees (`apply` then needs `--auto-approve`).
 */
import { createInterface } from 'node:readline/promises';

export interface Prompt {
  /** True when a person can answer: stdin is a terminal. */
  readonly interactive: boolean;
  /** Prints `question` and resolves with the line typed (without its line break). */
  ask(question: string): Promise<string>;
}

/** A prompt reading stdin and writing the question to `out` (stdout: it follows the plan). */
export function terminalPrompt(
  input: NodeJS.ReadableStream & { readonly isTTY?: boolean } = process.stdin,
  out: NodeJS.WritableStream = process.stdout,
): Prompt {
  return {
    interactive: input.isTTY === true,
    async ask(question) {
      const rl = createInterface({ input, output: out, terminal: false });
      try {
        // Ctrl-D (end of input) closes the interface without an answer: that is a "no", where
        // rl.question alone would wait for ever.
        return await new Promise<string>((resolve) => {
          rl.once('close', () => resolve(''));
          rl.question(question).then(resolve, () => resolve(''));
        });
      } finally {
        rl.close();
      }
    },
  };
}

/** A prompt for where nobody can answer: tests and embedding callers. */
export const NO_PROMPT: Prompt = {
  interactive: false,
  ask: () => Promise.reject(new Error('no terminal to ask on')),
};

/** Terraform's question: only the exact word `yes` applies. */
export async function confirmApply(prompt: Prompt, changes: number): Promise<boolean> {
  const answer = await prompt.ask(
    `\nDo you want to apply these ${changes} change(s)? Only 'yes' will be accepted.\n  Enter a value: `,
  );
  return answer.trim() === 'yes';
}
