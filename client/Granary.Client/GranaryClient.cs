using Feast.Serving;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Granary.Contracts;
using Granary.Gateway.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Polly;
using Polly.Retry;
using GatewayService = Granary.Gateway.V1.Granary;

namespace Granary.Client;

/// <summary>
/// A client of the gateway's gRPC service <c>granary.gateway.v1.Granary</c>. Thread-safe; make one per gateway and share it.
/// </summary>
/// <remarks>
/// Every attempt carries a deadline (the call's, else <see cref="GranaryClientOptions.DefaultDeadline"/>). Reads and status
/// calls are retried with exponential backoff on UNAVAILABLE and DEADLINE_EXCEEDED; push and materialize never are (a
/// repeated push or window could be applied twice). A call that fails for those reasons after its retries counts towards the
/// breaker; once open, calls fail at once (reads serve fallback defaults) until the break passes and a trial call succeeds.
/// </remarks>
public sealed partial class GranaryClient : IDisposable
{
    private readonly GranaryClientOptions _options;
    private readonly GrpcChannel _channel;
    private readonly GatewayService.GranaryClient _grpc;
    private readonly ResiliencePipeline _idempotent;
    private readonly CircuitBreaker _breaker;
    private readonly ReadCache? _cache;
    private readonly Metadata? _headers;

    /// <summary>Creates a client; the options are checked here and not read again.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public GranaryClient(GranaryClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _headers = string.IsNullOrEmpty(options.BearerToken) ? null : new Metadata { { "authorization", "Bearer " + options.BearerToken } };
        _channel = GrpcChannel.ForAddress(options.Address!, new GrpcChannelOptions
        {
            // Not a bare SocketsHttpHandler: that would put the channel in its connection-managing mode, where a refused
            // connection waits out a reconnect backoff, and a half-open trial could miss a gateway that is already back.
            // Here every attempt connects when it needs to, so retries and the breaker see the server as it is.
            HttpHandler = options.HttpHandler ?? new HttpClientHandler(),
            DisposeHttpClient = true,
            // Retries are ours (idempotent calls only), so the channel's own retry machinery stays off.
            MaxRetryAttempts = 0,
        });
        _grpc = new GatewayService.GranaryClient(_channel.Intercept([.. options.Interceptors]));
        _idempotent = options.RetryCount == 0
            ? ResiliencePipeline.Empty
            : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(IsTransient),
                MaxRetryAttempts = options.RetryCount,
                Delay = options.RetryBackoff,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
            }).Build();
        _breaker = new CircuitBreaker(options.BreakerFailureThreshold, options.BreakerBreakDuration, options.Clock);
        if (options.CacheSize > 0) _cache = new ReadCache(options.CacheSize, options.CacheTtl, options.Clock);
    }

    /// <summary>The breaker's state now.</summary>
    public BreakerState BreakerState => _breaker.State;

    /// <summary>Reads the latest values of <paramref name="features"/> (<c>view:feature</c>) for the entity rows.</summary>
    /// <param name="features">Feature references, e.g. <c>driver_stats:conv_rate</c>.</param>
    /// <param name="entityRows">One dictionary per row: join key (and request data) name to value.</param>
    /// <param name="fullFeatureNames">Name the result's features <c>view__feature</c>.</param>
    /// <param name="deadline">Each attempt's deadline; default <see cref="GranaryClientOptions.DefaultDeadline"/>.</param>
    /// <param name="cancellationToken">Cancels the call and its retries.</param>
    /// <exception cref="GranaryClientException">The gateway refused the request, or could not be reached and not every feature has a fallback.</exception>
    public Task<OnlineFeaturesResult> GetOnlineFeaturesAsync(
        IReadOnlyList<string> features, IReadOnlyList<IReadOnlyDictionary<string, object?>> entityRows, bool fullFeatureNames = false,
        TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count == 0) throw new ArgumentException("GetOnlineFeaturesAsync: no features given; name at least one as view:feature.", nameof(features));
        foreach (var f in features)
            if (f is null || f.IndexOf(':') is <= 0 || f.IndexOf(':') == f.Length - 1)
                throw new ArgumentException($"GetOnlineFeaturesAsync: '{f}' is not a feature reference; write view:feature, e.g. driver_stats:conv_rate.", nameof(features));
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { features } }, FullFeatureNames = fullFeatureNames };
        request.Entities.Add(Values.Columns(entityRows, "GetOnlineFeaturesAsync entity rows"));
        return ReadAsync(request, features, entityRows, deadline, cancellationToken);
    }

    /// <summary>Reads the features of the feature service <paramref name="featureService"/> for the entity rows.</summary>
    /// <remarks>Fallback defaults are not served for feature-service reads (the client does not know the service's features).</remarks>
    /// <exception cref="GranaryClientException">The gateway refused the request or could not be reached.</exception>
    public Task<OnlineFeaturesResult> GetOnlineFeaturesAsync(
        string featureService, IReadOnlyList<IReadOnlyDictionary<string, object?>> entityRows, bool fullFeatureNames = false,
        TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(featureService);
        var request = new GetOnlineFeaturesRequest { FeatureService = featureService, FullFeatureNames = fullFeatureNames };
        request.Entities.Add(Values.Columns(entityRows, "GetOnlineFeaturesAsync entity rows"));
        return ReadAsync(request, null, entityRows, deadline, cancellationToken);
    }

    /// <summary>Pushes rows to a push source. Never retried: a repeated push could be applied twice.</summary>
    /// <param name="pushSource">The push source's name.</param>
    /// <param name="rows">One dictionary per row: entity keys, the event timestamp and features.</param>
    /// <param name="to">Online (default), offline or both.</param>
    /// <param name="deadline">The call's deadline; default <see cref="GranaryClientOptions.DefaultDeadline"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<PushResult> PushAsync(
        string pushSource, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, PushTarget to = PushTarget.Online,
        TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pushSource);
        var request = new PushRequest
        {
            PushSourceName = pushSource,
            To = to switch { PushTarget.Offline => "offline", PushTarget.OnlineAndOffline => "online_and_offline", _ => "online" },
        };
        request.Columns.Add(Values.Columns(rows, $"PushAsync to '{pushSource}'"));
        var r = await CallAsync("Push", ResiliencePipeline.Empty, t => _grpc.PushAsync(request, Options(deadline, t)).ResponseAsync, cancellationToken);
        return new PushResult(r.RowsReceived, r.RowsAccepted, r.DuplicatesDropped, r.RowsIgnoredAsOlder, r.OnlineRowsApplied, r.OfflineRowsAppended)
        {
            RowsQuarantined = r.RowsQuarantined, RowsWarned = r.RowsWarned,
        };
    }

    /// <summary>Starts materializing [<paramref name="start"/>, <paramref name="end"/>] of the views (every online view when none is named); returns at once. Never retried.</summary>
    public async Task<IReadOnlyList<MaterializationStatus>> MaterializeAsync(
        DateTimeOffset start, DateTimeOffset end, IReadOnlyList<string>? featureViews = null, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        if (end < start) throw new ArgumentException($"MaterializeAsync: end {end:O} is before start {start:O}; swap them.", nameof(end));
        var request = new MaterializeRequest { Start = Timestamp.FromDateTimeOffset(start), End = Timestamp.FromDateTimeOffset(end) };
        if (featureViews is not null) request.FeatureViews.Add(featureViews);
        var r = await CallAsync("Materialize", ResiliencePipeline.Empty, t => _grpc.MaterializeAsync(request, Options(deadline, t)).ResponseAsync, cancellationToken);
        return Statuses(r);
    }

    /// <summary>The current or last run of each view (every online view when none is named). Retried like reads.</summary>
    public async Task<IReadOnlyList<MaterializationStatus>> GetMaterializationStatusAsync(
        IReadOnlyList<string>? featureViews = null, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var request = new MaterializationStatusRequest();
        if (featureViews is not null) request.FeatureViews.Add(featureViews);
        var r = await CallAsync("GetMaterializationStatus", _idempotent, t => _grpc.GetMaterializationStatusAsync(request, Options(deadline, t)).ResponseAsync, cancellationToken);
        return Statuses(r);
    }

    /// <summary>The served project's registry in brief: what can be read and pushed, and the declared type of every entity-row column. Retried like reads.</summary>
    public async Task<RegistryInfo> GetRegistryAsync(TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var r = await CallAsync("ListRegistry", _idempotent, t => _grpc.ListRegistryAsync(new ListRegistryRequest(), Options(deadline, t)).ResponseAsync, cancellationToken);
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in r.Entities) inputs.TryAdd(e.JoinKey, e.ValueType.ToString());
        foreach (var d in r.DataSources)
            foreach (var f in d.Schema) inputs.TryAdd(f.Name, f.ValueType.ToString());
        return new RegistryInfo(r.Project, r.Version, inputs,
            r.FeatureViews.Select(v => v.Name).Concat(r.OnDemandFeatureViews.Select(v => v.Name)).ToArray(),
            r.FeatureServices.Select(s => s.Name).ToArray(),
            r.DataSources.Where(d => d.Kind == "push").Select(d => d.Name).ToArray())
        {
            Definitions = new RegistryDefinitions(
                r.Entities.Select(e => new RegistryEntity(e.Name, e.JoinKey, e.ValueType.ToString())).ToArray(),
                r.FeatureViews.Select(v => new RegistryFeatureView(v.Name, v.Entities.ToArray(), v.Source,
                    v.Features.Select(f => new RegistryField(f.Name, f.ValueType.ToString())).ToArray())).ToArray(),
                r.DataSources.Select(d => new RegistryDataSource(d.Name, d.Kind, d.BatchSource.Length == 0 ? null : d.BatchSource, d.TimestampField,
                    d.CreatedTimestampField.Length == 0 ? null : d.CreatedTimestampField, new Dictionary<string, string>(d.FieldMapping, StringComparer.Ordinal),
                    d.Schema.Select(f => new RegistryField(f.Name, f.ValueType.ToString())).ToArray())).ToArray()),
        };
    }

    /// <summary>
    /// Runs a historical (training data) job on the server, reporting its progress to <paramref name="progress"/> as it
    /// changes, and returns its result (with the rows when <see cref="HistoricalFeaturesRequest.StreamRows"/> is set).
    /// Never retried (a job may be long and costly). Cancelling <paramref name="cancellationToken"/> or passing the
    /// deadline cancels the job on the server.
    /// </summary>
    /// <param name="request">What to retrieve and where the result goes.</param>
    /// <param name="progress">Receives each progress message, on the thread reading the stream; null to ignore them.</param>
    /// <param name="deadline">The whole job's deadline; default <see cref="GranaryClientOptions.DefaultJobDeadline"/>.</param>
    /// <param name="cancellationToken">Cancels the call and the job.</param>
    /// <exception cref="ArgumentException">The request gives no entities or no features, or both of a pair; the message names them.</exception>
    /// <exception cref="GranaryClientException">The gateway refused the request (INVALID_ARGUMENT, NOT_FOUND), the job failed, or the deadline passed.</exception>
    public async Task<HistoricalFeaturesResult> GetHistoricalFeaturesAsync(
        HistoricalFeaturesRequest request, IProgress<HistoricalProgress>? progress = null, TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.EntityRows is null) == string.IsNullOrEmpty(request.EntitiesPath))
            throw new ArgumentException("GetHistoricalFeaturesAsync: give exactly one of EntityRows and EntitiesPath.", nameof(request));
        if ((request.Features.Count == 0) == string.IsNullOrEmpty(request.FeatureService))
            throw new ArgumentException("GetHistoricalFeaturesAsync: give exactly one of Features (view:feature) and FeatureService.", nameof(request));
        var proto = new GetHistoricalFeaturesRequest
        {
            FeatureService = request.FeatureService ?? "", FullFeatureNames = request.FullFeatureNames, OutputPath = request.OutputPath ?? "",
            StreamRows = request.StreamRows, ChunkRows = request.ChunkRows,
        };
        proto.Features.Add(request.Features);
        if (request.EntityRows is { } rows)
        {
            proto.EntityRows = new EntityRows();
            proto.EntityRows.Columns.Add(Values.Columns(rows, "GetHistoricalFeaturesAsync entity rows"));
        }
        else
        {
            proto.EntitiesPath = request.EntitiesPath;
        }
        var options = new CallOptions(headers: _headers, deadline: DateTime.UtcNow + (deadline ?? _options.DefaultJobDeadline), cancellationToken: cancellationToken);
        return await CallAsync("GetHistoricalFeatures", ResiliencePipeline.Empty, async t =>
        {
            using var call = _grpc.GetHistoricalFeatures(proto, options.WithCancellationToken(t));
            HistoricalJobResult? result = null;
            var resultRows = new List<IReadOnlyList<object?>>();
            await foreach (var e in call.ResponseStream.ReadAllAsync(t))
            {
                switch (e.EventCase)
                {
                    case HistoricalFeaturesEvent.EventOneofCase.Progress:
                        var p = e.Progress;
                        progress?.Report(new HistoricalProgress(p.JobId, p.Phase, p.Percent, p.EntityRows, p.OutputRows));
                        break;
                    case HistoricalFeaturesEvent.EventOneofCase.Result:
                        result = e.Result;
                        break;
                    case HistoricalFeaturesEvent.EventOneofCase.Rows:
                        AddRows(resultRows, e.Rows);
                        break;
                }
            }
            if (result is null) throw new RpcException(new Status(StatusCode.Internal, "the gateway ended the historical stream without a result"));
            return new HistoricalFeaturesResult(result.JobId, result.OutputPath.Length == 0 ? null : result.OutputPath, result.EntityRows, result.OutputRows,
                result.Columns.ToArray(), resultRows, result.Elapsed?.ToTimeSpan() ?? TimeSpan.Zero);
        }, cancellationToken);
    }

    private static void AddRows(List<IReadOnlyList<object?>> rows, HistoricalRowChunk chunk)
    {
        var count = chunk.Columns.Count == 0 ? 0 : chunk.Columns[0].Val.Count;
        for (var r = 0; r < count; r++)
        {
            var row = new object?[chunk.Columns.Count];
            for (var c = 0; c < row.Length; c++) row[c] = FeastValues.FromProto(chunk.Columns[c].Val[r]);
            rows.Add(row);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _channel.Dispose();

    private async Task<OnlineFeaturesResult> ReadAsync(
        GetOnlineFeaturesRequest request, IReadOnlyList<string>? features, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows,
        TimeSpan? deadline, CancellationToken cancellationToken)
    {
        // The serialized request is the key: the same features, rows and flags in the same order.
        var key = _cache is null ? null : Convert.ToBase64String(request.ToByteArray());
        if (key is not null && _cache!.TryGet(key, out var cached)) return cached.AsCached();
        try
        {
            var response = await CallAsync("GetOnlineFeatures", _idempotent, t => _grpc.GetOnlineFeaturesAsync(request, Options(deadline, t)).ResponseAsync, cancellationToken);
            var result = ToResult(response);
            if (key is not null) _cache!.Set(key, result);
            return result;
        }
        catch (GranaryClientException e) when (e.IsTransient && Fallback(features, rows, request.FullFeatureNames) is { } fallback)
        {
            return fallback;
        }
    }

    private async Task<T> CallAsync<T>(string name, ResiliencePipeline pipeline, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        if (!_breaker.TryEnter())
            throw new GranaryClientException(StatusCode.Unavailable, $"{name}: the circuit breaker is open after {_options.BreakerFailureThreshold} consecutive failures; no call was made.",
                $"The gateway at {_options.Address} kept failing; the breaker lets a trial call through {_options.BreakerBreakDuration} after it opened.") { CircuitOpen = true };
        try
        {
            var result = await pipeline.ExecuteAsync(async t => await call(t), cancellationToken);
            _breaker.Success();
            return result;
        }
        catch (RpcException e) when (IsTransient(e))
        {
            _breaker.Failure();
            throw GranaryClientException.From(e, name);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            // The server answered (a bad request is not an outage), so the breaker counts it as healthy.
            _breaker.Success();
            throw GranaryClientException.From(e, name);
        }
        catch (RpcException e) when (cancellationToken.IsCancellationRequested)
        {
            // The caller cancelled: not the server's fault, and .NET's usual exception for it.
            _breaker.Abandon();
            throw new OperationCanceledException($"{name}: cancelled by the caller", e, cancellationToken);
        }
        catch
        {
            _breaker.Abandon();
            throw;
        }
    }

    private CallOptions Options(TimeSpan? deadline, CancellationToken token) =>
        new(headers: _headers, deadline: DateTime.UtcNow + (deadline ?? _options.DefaultDeadline), cancellationToken: token);

    private static bool IsTransient(RpcException e) => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded;

    private OnlineFeaturesResult? Fallback(IReadOnlyList<string>? features, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, bool fullNames)
    {
        if (features is null || !features.All(_options.FallbackDefaults.ContainsKey)) return null;
        var keys = rows[0].Keys.ToArray();
        var names = keys.Concat(features.Select(f => fullNames ? f.Replace(":", "__", StringComparison.Ordinal) : f[(f.IndexOf(':') + 1)..])).ToArray();
        var result = new List<IReadOnlyList<FeatureValue>>(rows.Count);
        foreach (var row in rows)
        {
            var values = new List<FeatureValue>(names.Length);
            values.AddRange(keys.Select(k => new FeatureValue(row[k], FeatureStatus.Present, null)));
            values.AddRange(features.Select(f => new FeatureValue(_options.FallbackDefaults[f], FeatureStatus.Fallback, null)));
            result.Add(values);
        }
        return new OnlineFeaturesResult(names, result, fromFallback: true, fromCache: false);
    }

    private static OnlineFeaturesResult ToResult(GetOnlineFeaturesResponse response)
    {
        var names = response.Metadata.FeatureNames.Val.ToArray();
        var rowCount = response.Results.Count == 0 ? 0 : response.Results[0].Values.Count;
        var rows = new List<IReadOnlyList<FeatureValue>>(rowCount);
        for (var i = 0; i < rowCount; i++)
        {
            var row = new FeatureValue[names.Length];
            for (var j = 0; j < names.Length; j++)
            {
                var column = response.Results[j];
                row[j] = new FeatureValue(
                    FeastValues.FromProto(column.Values[i]),
                    column.Statuses[i] switch
                    {
                        FieldStatus.NullValue => FeatureStatus.NullValue,
                        FieldStatus.NotFound => FeatureStatus.NotFound,
                        FieldStatus.OutsideMaxAge => FeatureStatus.OutsideMaxAge,
                        _ => FeatureStatus.Present,
                    },
                    i < column.EventTimestamps.Count ? Values.Time(column.EventTimestamps[i]) : null,
                    i < column.GranaryServedFromCache.Count && column.GranaryServedFromCache[i]);
            }
            rows.Add(row);
        }
        return new OnlineFeaturesResult(names, rows, fromFallback: false, fromCache: false);
    }

    private static MaterializationStatus[] Statuses(MaterializationStatusList list) => list.Runs.Select(r => new MaterializationStatus(
        r.FeatureView, (MaterializationState)(int)r.State, Values.Time(r.Start), Values.Time(r.End), r.Partitions, r.PartitionsDone, r.RowsWritten,
        string.IsNullOrEmpty(r.Error) ? null : r.Error, Values.Time(r.StartedAt), Values.Time(r.FinishedAt))).ToArray();
}
