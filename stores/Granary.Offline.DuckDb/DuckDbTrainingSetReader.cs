using DuckDB.NET.Data;
using Granary.Definitions;
using Granary.FeatureHealth;
using ValueType = Granary.Definitions.ValueType;
using Granary.Offline.Engine;

namespace Granary.Offline.DuckDb;

/// <summary>Reads Parquet and CSV training sets (drift baselines) with DuckDB, each wanted column cast to its feature's declared type.</summary>
public sealed class DuckDbTrainingSetReader : ITrainingSetReader
{
    /// <inheritdoc/>
    public Task<IReadOnlyDictionary<string, List<object?>>> ReadColumnsAsync(string path, IReadOnlyDictionary<string, ValueType> columns, CancellationToken cancellationToken = default)
        => Task.Run(() => Read(path, columns, cancellationToken), cancellationToken);

    private static IReadOnlyDictionary<string, List<object?>> Read(string path, IReadOnlyDictionary<string, ValueType> columns, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) throw new DriftException($"baseline '{path}' does not exist", "pass the training set file written by get-historical-features (.parquet or .csv)");
        var literal = Sql.Literal(path);
        var table = path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? $"read_csv({literal}, header = true)" : $"read_parquet({literal})";
        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        var present = new List<string>();
        using (var describe = connection.CreateCommand())
        {
            describe.CommandText = $"SELECT column_name FROM (DESCRIBE SELECT * FROM {table})";
            try
            {
                using var reader = describe.ExecuteReader();
                while (reader.Read()) present.Add(reader.GetString(0));
            }
            catch (DuckDBException e)
            {
                throw new DriftException($"baseline '{path}' cannot be read as {(table.StartsWith("read_csv", StringComparison.Ordinal) ? "CSV" : "Parquet")}: {e.Message}",
                    "pass a .parquet or .csv training set (e.g. from get-historical-features)");
            }
        }
        var wanted = present.Where(columns.ContainsKey).ToList();
        var result = wanted.ToDictionary(c => c, _ => new List<object?>(), StringComparer.Ordinal);
        if (wanted.Count == 0) return result;
        using var select = connection.CreateCommand();
        // TRY_CAST is not used: a value that does not fit its declared type must fail loudly, naming the column.
        select.CommandText = $"SELECT {string.Join(", ", wanted.Select(c => $"CAST({Sql.Identifier(c)} AS {SqlType(columns[c])})"))} FROM {table}";
        try
        {
            using var rows = select.ExecuteReader();
            var count = 0;
            while (rows.Read())
            {
                if ((++count & 0xFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
                for (var i = 0; i < wanted.Count; i++) result[wanted[i]].Add(rows.IsDBNull(i) ? null : rows.GetValue(i));
            }
        }
        catch (DuckDBException e)
        {
            throw new DriftException($"baseline '{path}': {e.Message}", "the baseline's columns must have the features' declared types");
        }
        return result;
    }

    private static string SqlType(ValueType type) => type.Scalar switch
    {
        ScalarType.Int32 or ScalarType.Int64 => "BIGINT",
        ScalarType.Float32 or ScalarType.Float64 => "DOUBLE",
        ScalarType.Bool => "BOOLEAN",
        _ => "VARCHAR",
    };
}
