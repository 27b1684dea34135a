using System.Security.Cryptography;
using System.Text;

namespace Granary.Core.Security;

/// <summary>
/// One API key as the registry database keeps it: who it stands for and which roles it carries, and a salted SHA-256 of
/// its secret, never the secret. A key is only ever revoked, never deleted, so its history stays readable.
/// </summary>
/// <param name="Id">The key's public id (the part of the key before the secret), e.g. <c>k3f9a0c1d2e4b</c>.</param>
/// <param name="Principal">The principal the key authenticates as.</param>
/// <param name="Roles">Its roles.</param>
/// <param name="Salt">Random salt, hex.</param>
/// <param name="Hash">SHA-256 of salt and secret, hex.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; null while it works.</param>
public sealed record ApiKeyRecord(string Id, string Principal, IReadOnlyList<string> Roles, string Salt, string Hash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>Who a valid API key stands for.</summary>
/// <param name="KeyId">The key's id.</param>
/// <param name="Principal">The principal's name.</param>
/// <param name="Roles">Its roles.</param>
public sealed record ApiKeyIdentity(string KeyId, string Principal, IReadOnlyList<string> Roles);

/// <summary>The API keys of a deployment, in its registry database (every gateway of a cluster sees the same keys).</summary>
public interface IApiKeyStore
{
    /// <summary>Creates the tables when missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores a new key.</summary>
    Task AddApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken = default);

    /// <summary>The key with <paramref name="id"/>, revoked or not; null when there is none.</summary>
    Task<ApiKeyRecord?> GetApiKeyAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every key, oldest first.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>Revokes the key; false when there is no such key or it was revoked already.</summary>
    Task<bool> RevokeApiKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>A number that grows with every key created or revoked: readers that saw it unchanged may keep what they cached.</summary>
    Task<long> GetApiKeyRevisionAsync(CancellationToken cancellationToken = default);
}

/// <summary>Makes and checks API keys: <c>gk_&lt;id&gt;_&lt;secret&gt;</c>, 12 hex id characters and 256 random bits of secret.</summary>
public static class ApiKeys
{
    /// <summary>Every API key starts with this, which tells it from a JWT.</summary>
    public const string Prefix = "gk_";

    /// <summary>A new key for <paramref name="principal"/> with <paramref name="roles"/>: the text to hand out (shown once) and the record to store.</summary>
    public static (string Key, ApiKeyRecord Record) Create(string principal, IReadOnlyList<string> roles, DateTimeOffset now)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var salt = RandomNumberGenerator.GetBytes(16);
        return ($"{Prefix}{id}_{secret}", new ApiKeyRecord(id, principal, roles, Convert.ToHexStringLower(salt), HashOf(salt, secret), now, null));
    }

    /// <summary>Splits a presented key into id and secret; false when it is not shaped like a key.</summary>
    public static bool TryParse(string key, out string id, out string secret)
    {
        id = secret = "";
        if (!key.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var rest = key.AsSpan(Prefix.Length);
        var cut = rest.IndexOf('_');
        if (cut != 12 || rest.Length - cut - 1 < 32) return false;
        id = rest[..cut].ToString();
        secret = rest[(cut + 1)..].ToString();
        return id.All(char.IsAsciiHexDigitLower);
    }

    /// <summary>Whether <paramref name="secret"/> is the secret of <paramref name="record"/> (constant-time compare).</summary>
    public static bool Matches(ApiKeyRecord record, string secret)
    {
        var expected = Convert.FromHexString(record.Hash);
        var actual = Convert.FromHexString(HashOf(Convert.FromHexString(record.Salt), secret));
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>Whether <paramref name="name"/> is a usable principal or role name: letters, digits, '_', '-', '.', '@', 1-128 characters.</summary>
    public static bool IsValidName(string name)
        => name.Length is > 0 and <= 128 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '@');

    // The secret carries 256 random bits, so one salted SHA-256 is enough: there is nothing to guess that a slow hash would protect.
    private static string HashOf(byte[] salt, string secret)
        => Convert.ToHexStringLower(SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(secret)]));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
