using Granary.Online;

namespace Granary.Online.Tests;

/// <summary>Both phases of an event-id claim in one step, as a push that stored its rows makes them.</summary>
internal static class CommittedClaims
{
    /// <summary>Claims the ids for a fresh attempt and commits those it got; per id, true when it was new to this call.</summary>
    public static async Task<IReadOnlyList<bool>> ClaimAndCommitAsync(this IOnlineStore store, string scope, IReadOnlyList<string> eventIds, TimeSpan window)
    {
        var claims = await store.ClaimEventIdsAsync(scope, eventIds, Guid.NewGuid().ToString("N"), TimeSpan.FromMinutes(1));
        var fresh = claims.Select(c => c == EventIdClaim.Claimed).ToArray();
        var claimed = eventIds.Where((_, i) => fresh[i]).ToList();
        if (claimed.Count > 0) await store.CommitEventIdsAsync(scope, claimed, window);
        return fresh;
    }
}
