/** The earliest created of `items` (ties broken by id), so repeated look-ups agree. */
export function oldest<T extends { id: string; created_at?: string | undefined }>(
  items: readonly T[],
): T | undefined {
  return [...items].sort(
    (a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? '') || a.id.localeCompare(b.id),
  )[0];
}
