// Interop check: Node's @grpc/grpc-js (an implementation independent of .NET's) calls both of the gateway's gRPC
// services with protos loaded at run time from the gateway's own .proto files.
// usage: node interop.js <host:port> <proto root> <project>
// Prints one line per check; exits 1 on the first failure.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [address, protoRoot, project] = process.argv.slice(2);
if (!address || !protoRoot || !project) {
  console.error('usage: node interop.js <host:port> <proto root> <project>');
  process.exit(2);
}

const definition = protoLoader.loadSync(
  ['feast/serving/ServingService.proto', 'granary/gateway.proto', path.join(__dirname, 'health.proto')],
  { includeDirs: [protoRoot, __dirname], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
const loaded = grpc.loadPackageDefinition(definition);
const credentials = grpc.credentials.createInsecure();
const feast = new loaded.feast.serving.ServingService(address, credentials);
const granary = new loaded.granary.gateway.v1.Granary(address, credentials);
const health = new loaded.grpc.health.v1.Health(address, credentials);

function call(client, method, request, options = {}) {
  return new Promise((resolve, reject) => client[method](request, options, (error, response) => (error ? reject(error) : resolve(response))));
}

async function expectError(promise, code, detail) {
  try {
    await promise;
  } catch (error) {
    check(error.code === code, `status ${error.code} (${error.details}), expected ${code}`);
    if (detail) check(String(error.details).includes(detail), `details '${error.details}' lack '${detail}'`);
    return error;
  }
  throw new Error(`expected status ${code}, the call succeeded`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function ok(name, detail) {
  console.log(`ok ${name}${detail ? ': ' + detail : ''}`);
}

const int64s = (...values) => ({ val: values.map((v) => ({ int64_val: String(v) })) });

async function main() {
  const info = await call(feast, 'GetFeastServingInfo', {});
  check(info.version.startsWith('granary-'), `version '${info.version}'`);
  ok('feast.GetFeastServingInfo', info.version);

  const online = await call(feast, 'GetOnlineFeatures', {
    features: { val: ['driver_stats:conv_rate', 'driver_stats:trips'] },
    entities: { driver_id: int64s(1, 3) },
  });
  check(JSON.stringify(online.metadata.feature_names.val) === JSON.stringify(['driver_id', 'conv_rate', 'trips']), `feature names ${JSON.stringify(online.metadata.feature_names.val)}`);
  const [keys, rates, trips] = online.results;
  check(keys.values[0].int64_val === '1' && keys.values[1].int64_val === '3', `join keys ${JSON.stringify(keys.values)}`);
  check(rates.values[0].val === 'double_val' && rates.values[0].double_val === 0.5, `conv_rate ${JSON.stringify(rates.values[0])}`);
  check(rates.values[1].val === undefined, `missing value ${JSON.stringify(rates.values[1])}`);
  check(JSON.stringify(rates.statuses) === JSON.stringify(['PRESENT', 'NOT_FOUND']), `statuses ${JSON.stringify(rates.statuses)}`);
  check(rates.event_timestamps[0].seconds === '1704189600', `event timestamp ${JSON.stringify(rates.event_timestamps[0])}`);
  check(trips.values[0].val === 'int64_val' && trips.values[0].int64_val === '20', `trips ${JSON.stringify(trips.values[0])}`);
  ok('feast.GetOnlineFeatures', 'typed values, statuses, timestamps');

  await expectError(call(feast, 'GetOnlineFeatures', {
    features: { val: ['driver_stats:trips'] },
    entities: { driver_id: { val: [{ string_val: '1' }] } },
  }), grpc.status.INVALID_ARGUMENT, 'entities.driver_id[0]');
  ok('feast.GetOnlineFeatures error', 'INVALID_ARGUMENT naming the column and row');

  const listing = await call(granary, 'ListRegistry', {});
  check(listing.project === project, `project '${listing.project}'`);
  check(listing.feature_views.some((v) => v.name === 'driver_stats'), 'driver_stats listed');
  ok('granary.ListRegistry', `${listing.feature_views.length} feature views at version ${listing.version}`);

  const mine = await call(granary, 'GetOnlineFeatures', { features: { val: ['driver_stats:conv_rate'] }, entities: { driver_id: int64s(2) } });
  check(mine.results[1].values[0].double_val === 0.25, `conv_rate of driver 2 ${JSON.stringify(mine.results[1].values[0])}`);
  ok('granary.GetOnlineFeatures');

  await expectError(call(granary, 'GetOnlineFeatures', { features: { val: ['nope:x'] }, entities: { driver_id: int64s(1) } }),
    grpc.status.NOT_FOUND, "feature view 'nope'");
  ok('granary.GetOnlineFeatures error', 'NOT_FOUND');

  // Deadline: follow a long materialization with a 300 ms deadline; the server ends the stream DEADLINE_EXCEEDED.
  await call(granary, 'Materialize', {
    feature_views: ['big_stats'], start: { seconds: '1704067200', nanos: 0 }, end: { seconds: '1704153600', nanos: 0 },
  });
  await new Promise((resolve, reject) => {
    const stream = granary.WatchMaterialization({ feature_views: ['big_stats'] }, { deadline: new Date(Date.now() + 300) });
    let updates = 0;
    stream.on('data', () => { updates++; });
    stream.on('error', (error) => {
      if (error.code === grpc.status.DEADLINE_EXCEEDED) { ok('granary.WatchMaterialization deadline', `DEADLINE_EXCEEDED after ${updates} updates`); resolve(); }
      else reject(new Error(`status ${error.code} (${error.details}), expected DEADLINE_EXCEEDED`));
    });
    stream.on('end', () => reject(new Error('the stream ended before the deadline')));
  });

  // Historical job: inline entity rows, rows streamed back after progress and the result.
  const events = await new Promise((resolve, reject) => {
    const received = [];
    const stream = granary.GetHistoricalFeatures({
      entity_rows: { columns: { driver_id: int64s(1, 3), event_timestamp: { val: [{ unix_timestamp_val: '1704196800' }, { unix_timestamp_val: '1704196800' }] } } },
      features: ['driver_stats:conv_rate'], stream_rows: true,
    }, { deadline: new Date(Date.now() + 60000) });
    stream.on('data', (e) => received.push(e));
    stream.on('error', reject);
    stream.on('end', () => resolve(received));
  });
  check(events[0].event === 'progress', `first event ${events[0].event}`);
  const result = events.find((e) => e.event === 'result').result;
  check(JSON.stringify(result.columns) === JSON.stringify(['driver_id', 'event_timestamp', 'conv_rate']), `columns ${JSON.stringify(result.columns)}`);
  const chunk = events.find((e) => e.event === 'rows').rows;
  check(chunk.columns[2].val[0].double_val === 0.5 && chunk.columns[2].val[1].val === undefined, `conv_rate ${JSON.stringify(chunk.columns[2].val)}`);
  ok('granary.GetHistoricalFeatures', `${events.length} events, ${result.output_rows} rows`);
  await expectError(new Promise((resolve, reject) => {
    const stream = granary.GetHistoricalFeatures({ entities_path: 'relative.csv', features: ['driver_stats:trips'], stream_rows: true });
    stream.on('data', () => {});
    stream.on('error', reject);
    stream.on('end', resolve);
  }), grpc.status.INVALID_ARGUMENT, "'entities_path' 'relative.csv'");
  ok('granary.GetHistoricalFeatures error', 'INVALID_ARGUMENT naming the field');

  const serving = await call(health, 'Check', { service: 'feast.serving.ServingService' });
  check(serving.status === 'SERVING', `health ${serving.status}`);
  ok('grpc.health.v1.Health', serving.status);
}

main().then(() => { console.log('all ok'); process.exit(0); }, (error) => { console.error(`FAILED: ${error.message}`); process.exit(1); });
