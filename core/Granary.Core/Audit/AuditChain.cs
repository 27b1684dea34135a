using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Granary.Audit;

/// <summary>
/// The audit log's hash chain: each record's hash is SHA-256 over the previous record's hash and the record's canonical
/// fields, so a record changed, deleted or moved after it was written breaks the chain at that place.
/// </summary>
public static class AuditChain
{
    /// <summary>The previous hash of record 1.</summary>
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>The record <paramref name="sequence"/> of <paramref name="entry"/> after a record hashed <paramref name="previousHash"/>.</summary>
    public static AuditRecord Link(long sequence, AuditEntry entry, string previousHash)
        => new(sequence, entry, previousHash, HashOf(sequence, entry, previousHash));

    /// <summary>The hash of a record with these fields (lower-case hex SHA-256).</summary>
    public static string HashOf(long sequence, AuditEntry entry, string previousHash)
    {
        // Every field length-prefixed, so no value can imitate a field boundary; time in one fixed UTC form.
        var canonical = new StringBuilder(256);
        void Field(string value) => canonical.Append(value.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value).Append(';');
        Field(previousHash);
        Field(sequence.ToString(CultureInfo.InvariantCulture));
        Field(FormatTime(entry.Time));
        Field(entry.Principal);
        Field(entry.AuthMethod);
        Field(entry.Action);
        Field(entry.ObjectType);
        Field(entry.ObjectName);
        Field(entry.Route);
        Field(entry.Address);
        Field(entry.Result);
        Field(entry.Status);
        // Records without a detail hash as they did before the field existed, so older logs still verify.
        if (entry.Detail.Length > 0) Field(entry.Detail);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }

    /// <summary>The one text form of a record's time, as stored and hashed: UTC with 100 ns digits.</summary>
    public static string FormatTime(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses <see cref="FormatTime"/>'s form.</summary>
    public static DateTimeOffset ParseTime(string text) => DateTimeOffset.ParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>
    /// Checks <paramref name="records"/> (in the store's sequence order) from the first: numbers run 1, 2, 3 ... with no
    /// gap, each record's previous hash is the record before's hash, and each hash matches the record's fields.
    /// </summary>
    public static async Task<AuditVerification> VerifyAsync(IAsyncEnumerable<AuditRecord> records, CancellationToken cancellationToken = default)
    {
        long expected = 1;
        var previousHash = GenesisHash;
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            if (record.Sequence != expected)
                return AuditVerification.Broken(record.Sequence, expected - 1,
                    record.Sequence > expected
                        ? $"record {record.Sequence} follows record {expected - 1}: record(s) {expected}{(record.Sequence - 1 > expected ? $"-{record.Sequence - 1}" : "")} were deleted"
                        : $"record {record.Sequence} appears where record {expected} belongs: the log's numbering was changed");
            var recomputed = HashOf(record.Sequence, record.Entry, record.PreviousHash);
            if (record.PreviousHash != previousHash)
                return AuditVerification.Broken(record.Sequence, expected - 1, recomputed == record.Hash
                    ? $"record {record.Sequence} was chained after a different record {record.Sequence - 1} than the one stored: a record was moved here, or record {record.Sequence - 1} was changed or replaced"
                    : $"record {record.Sequence} does not match its hash and names a different predecessor: it was changed or moved here from another place");
            if (recomputed != record.Hash)
                return AuditVerification.Broken(record.Sequence, expected - 1, $"record {record.Sequence}'s fields do not match its hash: it was changed after it was written");
            previousHash = record.Hash;
            expected++;
        }
        return AuditVerification.Intact(expected - 1);
    }
}

/// <summary>What <see cref="AuditChain.VerifyAsync"/> found.</summary>
/// <param name="Ok">Whether the whole log is intact.</param>
/// <param name="CheckedRecords">How many records verified before the first broken one (all of them when intact).</param>
/// <param name="BrokenSequence">The first broken record's sequence number, when broken.</param>
/// <param name="Problem">What is wrong with it, when broken.</param>
public sealed record AuditVerification(bool Ok, long CheckedRecords, long? BrokenSequence, string? Problem)
{
    /// <summary>An intact log of <paramref name="records"/> records.</summary>
    public static AuditVerification Intact(long records) => new(true, records, null, null);

    /// <summary>A log broken at <paramref name="sequence"/>.</summary>
    public static AuditVerification Broken(long sequence, long verified, string problem) => new(false, verified, sequence, problem);
}
