using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Granary.Definitions;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.Core.Security;

/// <summary>What a reader without <see cref="PermissionAction.ReadUnmasked"/> gets for a feature tagged <c>pii</c>.</summary>
public enum MaskingMode
{
    /// <summary>A fixed mask: the mask text for strings, null for types that cannot hold it.</summary>
    Mask,
    /// <summary>A salted hash, deterministic per value (equal values give equal hashes, so joins still work), in the feature's type where it can hold one.</summary>
    Hash,
    /// <summary>No value: the read is refused (403 / PERMISSION_DENIED) naming the feature and the missing action.</summary>
    Refuse,
}

/// <summary>
/// Which features are personal data: a feature is PII when its own <c>pii</c> tag, or else its view's, has any value but
/// "false" (as <see cref="PermissionRules.IsSensitive"/> reads tags). The value may name the masking mode of that feature
/// (<c>mask</c>, <c>hash</c>, <c>refuse</c>); any other value uses the repository's default mode.
/// </summary>
public sealed class PiiCatalog
{
    /// <summary>The tag that marks personal data.</summary>
    public const string Tag = "pii";

    private static readonly ConditionalWeakTable<RegistrySnapshot, PiiCatalog> Catalogs = new();
    private readonly Dictionary<(string View, string Feature), MaskingMode?> _features;

    private PiiCatalog(Dictionary<(string View, string Feature), MaskingMode?> features) => _features = features;

    /// <summary>Whether any feature of the snapshot is PII (false: nothing is ever masked, the read path does no more).</summary>
    public bool Any => _features.Count > 0;

    /// <summary>The PII features of <paramref name="snapshot"/>, worked out once per snapshot.</summary>
    public static PiiCatalog For(RegistrySnapshot snapshot) => Catalogs.GetValue(snapshot, Build);

    /// <summary>Whether <paramref name="feature"/> of <paramref name="view"/> (a feature view or an on-demand view) is PII, and its mode (null: the default).</summary>
    public bool IsPii(string view, string feature, out MaskingMode? mode) => _features.TryGetValue((view, feature), out mode);

    /// <summary>The mode <paramref name="feature"/> of <paramref name="view"/> is masked with; null when it is not PII.</summary>
    public MaskingMode? ModeOf(string view, string feature, MaskingMode defaultMode)
        => IsPii(view, feature, out var mode) ? mode ?? defaultMode : null;

    /// <summary>Whether an object or field with <paramref name="tags"/> is marked PII, and the mode its tag names (null: the default).</summary>
    public static bool IsMarked(IReadOnlyDictionary<string, string> tags, out MaskingMode? mode)
    {
        mode = null;
        if (!TryTag(tags, out var value) || string.Equals(value, "false", StringComparison.OrdinalIgnoreCase)) return false;
        mode = ParseMode(value);
        return true;
    }

    /// <summary>The mode a tag value or setting names (<c>mask</c>, <c>hash</c>, <c>refuse</c>, any case); null for any other text.</summary>
    public static MaskingMode? ParseMode(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "mask" => MaskingMode.Mask,
        "hash" => MaskingMode.Hash,
        "refuse" => MaskingMode.Refuse,
        _ => null,
    };

    private static bool TryTag(IReadOnlyDictionary<string, string> tags, out string value)
    {
        foreach (var (key, v) in tags)
            if (string.Equals(key, Tag, StringComparison.OrdinalIgnoreCase)) { value = v; return true; }
        value = "";
        return false;
    }

    /// <summary>
    /// Whether <paramref name="field"/> of <paramref name="view"/> is PII, and the mode its tags name (null: the default).
    /// The feature's own tag wins (<c>pii: "false"</c> opts a feature of a PII view out); else the view's.
    /// </summary>
    public static bool IsPii(RegistryObject view, Field field, out MaskingMode? mode)
    {
        if (TryTag(field.Tags, out _))
        {
            if (!IsMarked(field.Tags, out mode)) return false;
            if (mode is null && IsMarked(view.Tags, out var viewMode)) mode = viewMode;
            return true;
        }
        return IsMarked(view.Tags, out mode);
    }

    private static PiiCatalog Build(RegistrySnapshot snapshot)
    {
        var features = new Dictionary<(string, string), MaskingMode?>();
        void Add(RegistryObject view, IReadOnlyList<Field> fields)
        {
            foreach (var field in fields)
                if (IsPii(view, field, out var mode)) features[(view.Name, field.Name)] = mode;
        }
        foreach (var view in snapshot.FeatureViews) Add(view, view.Features);
        foreach (var view in snapshot.OnDemandFeatureViews) Add(view, view.Features);
        return new PiiCatalog(features);
    }
}

/// <summary>
/// Turns a PII value into its masked form, keeping the feature's declared type so every client still parses the answer:
/// <list type="bullet">
/// <item><see cref="MaskingMode.Mask"/>: strings (and each element of a string list) become the mask text; every other
/// type becomes null (a number cannot hold "***").</item>
/// <item><see cref="MaskingMode.Hash"/>: HMAC-SHA256 of the value keyed by the server's salt: strings as 32 lowercase hex
/// digits (128 bits), Int64 and Int32 as the hash's first 8 or 4 bytes (big-endian, signed), bytes as the 32 bytes;
/// lists element by element; Float32, Float64, Bool and UnixTimestamp, which cannot hold a join-preserving hash, become null.
/// The hashed text is the value's invariant text (integers in decimal), so 12 as Int32 or Int64 hashes alike.</item>
/// </list>
/// Null stays null. Refusal has no masked form: readers are refused before values are read; where a value must still be
/// written without a reader (feature logs), refusal masks as <see cref="MaskingMode.Mask"/>.
/// </summary>
public sealed class PiiMasker
{
    /// <summary>The mask text when none is configured.</summary>
    public const string DefaultMask = "***";

    /// <summary>The shortest salt accepted (characters).</summary>
    public const int MinimumSaltLength = 16;

    private readonly byte[]? _salt;
    // One keyed HMAC per thread: resetting it keeps the key's state, so a value costs its own hashing only (the one-shot
    // HashData sets the key up again for every value, which was most of the cost on a wide read).
    private readonly ThreadLocal<IncrementalHash>? _hmac;

    /// <param name="maskText">What strings are masked to.</param>
    /// <param name="salt">The hash mode's secret key; null when none is configured (hash mode then fails with <see cref="PiiSaltMissingException"/>).</param>
    public PiiMasker(string maskText = DefaultMask, string? salt = null)
    {
        MaskText = maskText;
        _salt = string.IsNullOrEmpty(salt) ? null : Encoding.UTF8.GetBytes(salt);
        if (_salt is { } key) _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key));
    }

    /// <summary>What strings are masked to.</summary>
    public string MaskText { get; }

    /// <summary>Whether a salt is configured (hash mode can run).</summary>
    public bool CanHash => _salt is not null;

    /// <summary>The masked form of <paramref name="value"/> of <paramref name="type"/> under <paramref name="mode"/> (<see cref="MaskingMode.Refuse"/> masks as <see cref="MaskingMode.Mask"/>).</summary>
    public object? Mask(object? value, ValueType type, MaskingMode mode)
    {
        if (value is null) return null;
        if (mode == MaskingMode.Hash)
        {
            if (_salt is null) throw new PiiSaltMissingException();
            if (!Hashable(type.Scalar)) return null;
            if (!type.IsList) return Hash(value, type.Scalar);
            var items = new List<object?>();
            foreach (var item in (System.Collections.IEnumerable)value) items.Add(item is null ? null : Hash(item, type.Scalar));
            return type.Scalar switch
            {
                ScalarType.String => items.Cast<string>().ToArray(),
                ScalarType.Int64 => items.Select(i => (long)i!).ToArray(),
                ScalarType.Int32 => items.Select(i => (int)i!).ToArray(),
                _ => items.Cast<byte[]>().ToArray(),
            };
        }
        if (type.Scalar != ScalarType.String) return null;
        if (!type.IsList) return MaskText;
        var count = 0;
        foreach (var _ in (System.Collections.IEnumerable)value) count++;
        return Enumerable.Repeat(MaskText, count).ToArray();
    }

    /// <summary>Whether <paramref name="mode"/> keeps a value of <paramref name="type"/> (false: every value masks to null).</summary>
    public static bool KeepsValue(ValueType type, MaskingMode mode)
        => mode == MaskingMode.Hash ? Hashable(type.Scalar) : type.Scalar == ScalarType.String;

    private static bool Hashable(ScalarType scalar) => scalar is ScalarType.String or ScalarType.Int64 or ScalarType.Int32 or ScalarType.Bytes;

    private object Hash(object value, ScalarType scalar)
    {
        Span<byte> mac = stackalloc byte[32];
        var hmac = _hmac!.Value!;
        switch (value)
        {
            case byte[] bytes:
                hmac.AppendData(bytes);
                break;
            case string s when Encoding.UTF8.GetMaxByteCount(s.Length) <= 512:
                Span<byte> text = stackalloc byte[512];
                hmac.AppendData(text[..Encoding.UTF8.GetBytes(s, text)]);
                break;
            case IConvertible c when scalar is ScalarType.Int32 or ScalarType.Int64:
                // The decimal text, so an Int32 and an Int64 of the same value hash alike.
                Span<byte> digits = stackalloc byte[24];
                c.ToInt64(CultureInfo.InvariantCulture).TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
                hmac.AppendData(digits[..written]);
                break;
            default:
                hmac.AppendData(Encoding.UTF8.GetBytes(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
                break;
        }
        hmac.GetHashAndReset(mac);
        return scalar switch
        {
            ScalarType.String => Convert.ToHexStringLower(mac[..16]),
            ScalarType.Int64 => BinaryPrimitives.ReadInt64BigEndian(mac),
            ScalarType.Int32 => BinaryPrimitives.ReadInt32BigEndian(mac),
            _ => mac.ToArray(),
        };
    }
}

/// <summary>A feature is to be hashed but the server has no salt; the message names the setting.</summary>
public sealed class PiiSaltMissingException() : GranaryException(
    "a feature tagged pii is masked by hash, but this server has no masking salt",
    $"set Granary:Gateway:Masking:Salt (env Granary__Gateway__Masking__Salt) to a secret of at least {PiiMasker.MinimumSaltLength} characters, or use masking mode mask or refuse");
