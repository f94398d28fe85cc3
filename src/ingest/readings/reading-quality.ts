/** Reading quality as devices and the API name it, stored as a smallint (0, 1, 2). */
export const QUALITIES = ['GOOD', 'UNCERTAIN', 'BAD'] as const;
export type Quality = (typeof QUALITIES)[number];

export function qualityCode(quality: Quality | undefined): number {
  return quality === undefined ? 0 : QUALITIES.indexOf(quality);
}

export function qualityName(code: number): Quality {
  return QUALITIES[code] ?? 'GOOD';
}
