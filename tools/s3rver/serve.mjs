// A local S3-compatible server for the ceramic-backup tests and bench.
// usage: node serve.mjs <data-dir> [port] [bucket...]
// Listens on 127.0.0.1 (port 0 = any free port), creates the buckets, then prints
// `S3 http://127.0.0.1:<port>` once ready. Credentials: S3RVER / S3RVER (s3rver's defaults).
import S3rver from 's3rver';

const [dir, port = '0', ...buckets] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node serve.mjs <data-dir> [port] [bucket...]');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory: dir,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { address, port: bound } = await server.run();
console.log(`S3 http://${address}:${bound}`);
const stop = async () => { await server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
