// Writes a W x H RGB test PNG (and, with a third path, its first half) using only Node's zlib.
//   node make-png.js OUT.png W H [HALF.png]
const zlib = require("zlib");
const fs = require("fs");

const crc32 = (bytes) => {
    let c = ~0;
    for (const x of bytes) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
};
const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
};

const [out, w, h, half] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(w, 0);
ihdr.writeUInt32BE(h, 4);
ihdr.set([8, 2, 0, 0, 0], 8);  // 8-bit RGB
const raw = Buffer.alloc(h * (1 + w * 3));
for (let i = 0; i < raw.length; i++) raw[i] = (i * 13) & 0xff;
for (let y = 0; y < h; y++) raw[y * (1 + w * 3)] = 0;  // filter: none
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr),
                           chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
fs.writeFileSync(out, png);
if (half) fs.writeFileSync(half, png.subarray(0, png.length >> 1));
