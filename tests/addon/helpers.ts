/**
 * Driving the add-on from outside: waiting for /health. The OAuth client (the owner's browser,
 * Alexa at the token endpoint) is tests/helpers/alexa-client.ts.
 */
import { eventually as waitFor } from '../helpers/wait';

export { waitFor };

export async function health(base: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

export async function waitForHealthy(base: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return waitFor(
    `${base}/health to answer 200`,
    async () => {
      const h = await health(base);
      return h?.status === 200 ? h.body : undefined;
    },
    timeoutMs,
  );
}
