using Granary.Core.Security;
using Orleans.Concurrency;

namespace Granary.Grains.Security;

/// <summary>
/// The API keys of the deployment (one activation, key <see cref="Key"/>): checks a presented key against the registry
/// database, creates and revokes keys, and tells gateways when any key changed so they drop what they cached.
/// </summary>
[Alias("granary.api-keys")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>The one key this grain is called by.</summary>
    const string Key = "all";

    /// <summary>Who <paramref name="key"/> stands for, or null when it is unknown, wrong or revoked.</summary>
    [ReadOnly, AlwaysInterleave, Alias("authenticate")]
    Task<ApiKeyIdentity?> AuthenticateAsync(string key);

    /// <summary>Creates a key; returns the key text, which is stored only as a salted hash.</summary>
    [Alias("create")]
    Task<string> CreateAsync(string principal, IReadOnlyList<string> roles);

    /// <summary>Revokes a key at once for every gateway; false when there is no such working key.</summary>
    [Alias("revoke")]
    Task<bool> RevokeAsync(string id);

    /// <summary>
    /// Long poll: the key revision as soon as it is above <paramref name="knownRevision"/> (a key was created or revoked,
    /// here or by the CLI on the database), or null after <paramref name="maxWait"/> (at most 25 s).
    /// </summary>
    [AlwaysInterleave, Alias("wait-for-revision"), ResponseTimeout("00:00:30")]
    Task<long?> WaitForRevisionAfterAsync(long knownRevision, TimeSpan maxWait);
}
