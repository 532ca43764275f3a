export async function runReplayWebhooks(_argv: string[]): Promise<number> {
  throw new Error('not yet');
}
