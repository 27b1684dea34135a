using System.Globalization;
using System.Text;
using Granary.Definitions;
using ValueType = Granary.Definitions.ValueType;

namespace Granary.FeatureHealth;

/// <summary>Reads columns of a training set file (the baseline of a drift check).</summary>
public interface ITrainingSetReader
{
    /// <summary>
    /// The values of each of <paramref name="columns"/> the file has (name -> declared type; a column the file lacks is
    /// left out of the answer), typed as declared: long for integers, double for floats, string, bool; null for NULL.
    /// </summary>
    /// <exception cref="DriftException">The file does not exist, or a value does not parse as its type.</exception>
    Task<IReadOnlyDictionary<string, List<object?>>> ReadColumnsAsync(string path, IReadOnlyDictionary<string, ValueType> columns, CancellationToken cancellationToken = default);
}

/// <summary>
/// Reads CSV training sets with a header row (as <c>get-historical-features --output x.csv</c> writes them): RFC 4180
/// quoting, an empty unquoted field is NULL, an empty quoted field the empty string. Parquet needs another reader.
/// </summary>
public sealed class CsvTrainingSetReader : ITrainingSetReader
{
    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, List<object?>>> ReadColumnsAsync(string path, IReadOnlyDictionary<string, ValueType> columns, CancellationToken cancellationToken = default)
    {
        if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
            throw new DriftException($"baseline '{path}' is not a .csv file, and this process has no Parquet reader for training sets",
                "pass a CSV training set (get-historical-features --output train.csv), or run the check where the DuckDB reader is registered (the CLI, granary serve)");
        if (!File.Exists(path)) throw new DriftException($"baseline '{path}' does not exist", "pass the training set file written by get-historical-features");
        using var reader = new StreamReader(path, Encoding.UTF8);
        var header = ReadRecord(reader) ?? throw new DriftException($"baseline '{path}' is empty; it needs a header row");
        var wanted = new List<(int Index, string Name, ValueType Type)>();
        for (var i = 0; i < header.Count; i++)
            if (header[i].Text is { } name && columns.TryGetValue(name, out var type)) wanted.Add((i, name, type));
        var result = wanted.ToDictionary(w => w.Name, _ => new List<object?>(), StringComparer.Ordinal);
        var line = 1;
        while (ReadRecord(reader) is { } record)
        {
            line++;
            if ((line & 0xFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
            foreach (var (index, name, type) in wanted)
            {
                var field = index < record.Count ? record[index] : default;
                result[name].Add(Parse(field, type, path, line, name));
            }
        }
        await Task.CompletedTask;
        return result;
    }

    private static object? Parse((string? Text, bool Quoted) field, ValueType type, string path, int line, string column)
    {
        if (field.Text is null || (field.Text.Length == 0 && !field.Quoted)) return null;
        var text = field.Text;
        var invariant = CultureInfo.InvariantCulture;
        object? value = (type.IsList ? ScalarType.String : type.Scalar) switch
        {
            ScalarType.Int32 or ScalarType.Int64 => long.TryParse(text, NumberStyles.Integer, invariant, out var l) ? l : null,
            ScalarType.Float32 or ScalarType.Float64 => double.TryParse(text, NumberStyles.Float, invariant, out var d) ? d
                : text.Equals("nan", StringComparison.OrdinalIgnoreCase) ? double.NaN : null,
            ScalarType.Bool => text.ToLowerInvariant() switch { "true" or "1" => true, "false" or "0" => false, _ => null },
            _ => text,
        };
        return value ?? throw new DriftException($"baseline '{path}' line {line}, column '{column}': '{text}' is not a {type}", "the baseline's columns must have the features' declared types");
    }

    // One CSV record (fields may span lines inside quotes); null at the end of the file.
    private static List<(string? Text, bool Quoted)>? ReadRecord(TextReader reader)
    {
        if (reader.Peek() < 0) return null;
        var fields = new List<(string?, bool)>();
        var text = new StringBuilder();
        var quoted = false;
        var inQuotes = false;
        while (true)
        {
            var c = reader.Read();
            if (c < 0)
            {
                fields.Add((text.ToString(), quoted));
                return fields;
            }
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); text.Append('"'); }
                    else inQuotes = false;
                }
                else text.Append((char)c);
                continue;
            }
            switch (c)
            {
                case '"': inQuotes = quoted = true; break;
                case ',':
                    fields.Add((text.ToString(), quoted));
                    text.Clear();
                    quoted = false;
                    break;
                case '\r': break;
                case '\n':
                    fields.Add((text.ToString(), quoted));
                    return fields;
                default: text.Append((char)c); break;
            }
        }
    }
}

/// <summary>A drift check that cannot run as asked (no baseline, unknown view, unreadable file); the message says what to change.</summary>
public sealed class DriftException(string message, string? hint = null) : GranaryException(message, hint);
