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

/// <summary>A drift check that cannot run as asked (no baseline, unknown view, unreadable file); the message says what to change.</summary>
public sealed class DriftException(string message, string? hint = null) : GranaryException(message, hint);
