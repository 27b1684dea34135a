namespace Granary.Audit;

/// <summary>
/// What happened in one audited request, as the gateway saw it: who, what, to which object, from where, with what result.
/// Never a secret, token, feature value, entity key value or request body: only names, the route and the outcome.
/// </summary>
public sealed record AuditEntry
{
    /// <summary>When the request was answered (UTC).</summary>
    public required DateTimeOffset Time { get; init; }
    /// <summary>The principal's name; <see cref="Anonymous"/> when the request carried no identity.</summary>
    public required string Principal { get; init; }
    /// <summary>How the principal was authenticated (<c>apikey</c>, <c>jwt</c>), or <c>none</c>.</summary>
    public required string AuthMethod { get; init; }
    /// <summary>The action (Feast's permission action name, e.g. <c>WRITE_ONLINE</c>), or the request's kind when no decision named one.</summary>
    public required string Action { get; init; }
    /// <summary>The object's kind (<c>feature_view</c>, <c>push_source</c>, ...), empty when the request named none.</summary>
    public string ObjectType { get; init; } = "";
    /// <summary>The object's name, empty when the request named none.</summary>
    public string ObjectName { get; init; } = "";
    /// <summary>The request: HTTP method and path (REST) or <c>POST</c> and the gRPC method's path.</summary>
    public required string Route { get; init; }
    /// <summary>The caller's address as the gateway saw it.</summary>
    public required string Address { get; init; }
    /// <summary><c>allowed</c>, <c>denied</c> (an authorization decision refused it) or <c>refused</c> (a limit or the protocol refused it), or <c>failed</c>.</summary>
    public required string Result { get; init; }
    /// <summary>The answer's status: the HTTP status code (REST), or <c>grpc:</c> and the gRPC status name.</summary>
    public required string Status { get; init; }
    /// <summary>
    /// What the action did, when more than its outcome is worth keeping (an erasure: the entity key's keyed hash and the rows
    /// removed per place); names and counts only. Empty for most records.
    /// </summary>
    public string Detail { get; init; } = "";

    /// <summary>The principal name recorded for requests without an identity.</summary>
    public const string Anonymous = "anonymous";
}

/// <summary>
/// One stored audit record: an entry, its place in the log (<see cref="Sequence"/>, from 1 with no gaps) and the hash
/// chain (<see cref="PreviousHash"/> is the record before's <see cref="Hash"/>; see <see cref="AuditChain"/>).
/// </summary>
/// <param name="Sequence">The record's number.</param>
/// <param name="Entry">What it records.</param>
/// <param name="PreviousHash">The hash of record <c>Sequence - 1</c>; <see cref="AuditChain.GenesisHash"/> for the first.</param>
/// <param name="Hash">The hash over the previous hash and this record's canonical fields.</param>
public sealed record AuditRecord(long Sequence, AuditEntry Entry, string PreviousHash, string Hash);

/// <summary>Which records <c>granary audit tail</c> shows: the newest <see cref="Limit"/>, optionally of one principal or object.</summary>
public sealed record AuditQuery
{
    /// <summary>Only records of this principal (exact name), when set.</summary>
    public string? Principal { get; init; }
    /// <summary>Only records of this object (exact name), when set.</summary>
    public string? ObjectName { get; init; }
    /// <summary>How many of the newest matching records. Default 20.</summary>
    public int Limit { get; init; } = 20;
}
