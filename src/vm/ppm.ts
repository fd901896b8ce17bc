// Reading QEMU screendumps (binary PPM) and coarse questions about them:
// tests ask "is the screen mostly this colour?", not for exact pixels, which
// vary with fonts, firmware versions and timing.

export type Rgb = [number, number, number];

export interface Image {
  width: number;
  height: number;
  /** RGB, 3 bytes a pixel, rows top to bottom. */
  pixels: Buffer;
}

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;

/** Parse a binary (P6) PPM with maxval 255, as QEMU's screendump writes. */
export function parsePpm(buf: Buffer): Image {
  if (buf.length < 2 || buf[0] !== 0x50 /* P */ || buf[1] !== 0x36 /* 6 */) {
    const magic = buf.subarray(0, 2).toString('latin1');
    throw new Error(`not a binary PPM: magic ${JSON.stringify(magic)}, want "P6"`);
  }
  let i = 2;
  const header = (name: string): number => {
    // Netpbm allows any whitespace between fields and '#' comments up to the end of a line.
    const start = i;
    for (;;) {
      if (isSpace(buf[i])) i++;
      else if (buf[i] === 0x23 /* # */) {
        while (i < buf.length && buf[i] !== 0x0a && buf[i] !== 0x0d) i++;
      } else break;
    }
    if (i === start) throw new Error(`PPM header: no whitespace before ${name}`);
    const from = i;
    while (i < buf.length && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
    if (i === from) throw new Error(`PPM header: ${name} is not a number (at byte ${from})`);
    if (i - from > 9) throw new Error(`PPM header: ${name} is too large`);
    return Number(buf.subarray(from, i).toString('latin1'));
  };
  const width = header('width');
  const height = header('height');
  const maxval = header('maxval');
  if (width < 1 || height < 1) throw new Error(`PPM header: empty image ${width}x${height}`);
  if (maxval !== 255) throw new Error(`PPM maxval ${maxval} is not supported (only 255: one byte a sample)`);
  // Exactly one whitespace byte separates the header from the samples; more would be pixel data.
  if (!isSpace(buf[i])) throw new Error('PPM header: no whitespace after maxval');
  i++;
  const size = width * height * 3;
  if (buf.length - i < size) throw new Error(`PPM data too short: ${buf.length - i} bytes for ${width}x${height} (want ${size})`);
  return { width, height, pixels: buf.subarray(i, i + size) };
}

/** The fraction (0..1) of pixels within `tolerance` of `rgb` on every channel. */
export function colourShare(img: Image, rgb: Rgb, tolerance = 16): number {
  const p = img.pixels;
  const n = Math.floor(p.length / 3);
  if (n === 0) return 0;
  const [r, g, b] = rgb;
  let hits = 0;
  for (let o = 0; o < n * 3; o += 3) {
    if (Math.abs(p[o]! - r) <= tolerance && Math.abs(p[o + 1]! - g) <= tolerance && Math.abs(p[o + 2]! - b) <= tolerance) hits++;
  }
  return hits / n;
}

/** The most common colour, at 16 levels a channel (so noise and anti-aliasing fall in one bucket):
 * that bucket's average colour and its share of the pixels. */
export function dominantColour(img: Image): { rgb: Rgb; share: number } {
  const p = img.pixels;
  const n = Math.floor(p.length / 3);
  if (n === 0) throw new Error('dominantColour: the image has no pixels');
  const counts = new Uint32Array(4096);
  const sums = new Float64Array(4096 * 3);
  for (let o = 0; o < n * 3; o += 3) {
    const r = p[o]!;
    const g = p[o + 1]!;
    const b = p[o + 2]!;
    const k = ((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4);
    counts[k]!++;
    sums[k * 3]! += r;
    sums[k * 3 + 1]! += g;
    sums[k * 3 + 2]! += b;
  }
  let best = 0;
  for (let k = 1; k < 4096; k++) if (counts[k]! > counts[best]!) best = k;
  const c = counts[best]!;
  const rgb: Rgb = [Math.round(sums[best * 3]! / c), Math.round(sums[best * 3 + 1]! / c), Math.round(sums[best * 3 + 2]! / c)];
  return { rgb, share: c / n };
}
