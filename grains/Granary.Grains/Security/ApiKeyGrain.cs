using Granary.Core.Security;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Granary.Grains.Security;

/// <summary>
/// <see cref="IApiKeyGrain"/> over the registry database. Keys revoked through it wake waiting gateways at once; keys
/// created or revoked straight in the database (<c>granary auth</c> beside a running cluster) are seen by a check of the
/// revision every <see cref="DatabaseCheckEvery"/>.
/// </summary>
[Reentrant]
[GrainType("api-keys")]
public sealed partial class ApiKeyGrain(IApiKeyStore store, TimeProvider time, ILogger<ApiKeyGrain> logger) : Grain, IApiKeyGrain
{
    /// <summary>How often the database's key revision is read for changes made outside the cluster.</summary>
    public static readonly TimeSpan DatabaseCheckEvery = TimeSpan.FromMilliseconds(500);

    private long _revision;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IGrainTimer? _timer;

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        _revision = await store.GetApiKeyRevisionAsync(cancellationToken);
        _timer = this.RegisterGrainTimer(CheckDatabaseAsync, new GrainTimerCreationOptions(DatabaseCheckEvery, DatabaseCheckEvery) { Interleave = true, KeepAlive = true });
    }

    /// <inheritdoc/>
    public async Task<ApiKeyIdentity?> AuthenticateAsync(string key)
    {
        if (!ApiKeys.TryParse(key, out var id, out var secret)) return null;
        var record = await store.GetApiKeyAsync(id);
        if (record is null || record.RevokedAt is not null || !ApiKeys.Matches(record, secret)) return null;
        return new ApiKeyIdentity(record.Id, record.Principal, record.Roles);
    }

    /// <inheritdoc/>
    public async Task<string> CreateAsync(string principal, IReadOnlyList<string> roles)
    {
        var (key, record) = ApiKeys.Create(principal, roles, time.GetUtcNow());
        await store.AddApiKeyAsync(record);
        await CheckDatabaseAsync(CancellationToken.None);
        return key;
    }

    /// <inheritdoc/>
    public async Task<bool> RevokeAsync(string id)
    {
        var revoked = await store.RevokeApiKeyAsync(id, time.GetUtcNow());
        if (revoked) LogRevoked(logger, id);
        await CheckDatabaseAsync(CancellationToken.None);
        return revoked;
    }

    /// <inheritdoc/>
    public async Task<long?> WaitForRevisionAfterAsync(long knownRevision, TimeSpan maxWait)
    {
        var changed = Volatile.Read(ref _changed).Task;
        if (_revision > knownRevision) return _revision;
        if (maxWait > TimeSpan.FromSeconds(25)) maxWait = TimeSpan.FromSeconds(25);
        await Task.WhenAny(changed, Task.Delay(maxWait, time));
        return _revision > knownRevision ? _revision : null;
    }

    private async Task CheckDatabaseAsync(CancellationToken cancellationToken)
    {
        long revision;
        try
        {
            revision = await store.GetApiKeyRevisionAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCheckFailed(logger, e);
            return;
        }
        if (revision <= _revision) return;
        _revision = revision;
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} revoked")]
    private static partial void LogRevoked(ILogger logger, string keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the API key revision from the registry database failed; keys changed outside the cluster are seen on the next check")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
