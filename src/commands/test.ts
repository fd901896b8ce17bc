export async function testImage(_i: string, _o: Record<string, unknown>): Promise<number> { return 1; }
