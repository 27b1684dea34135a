using System.Globalization;
using Granary.Definitions;
using Granary.Offline;
using NpgsqlTypes;

namespace Granary.Offline.Postgres;

/// <summary>A PostgreSQL column type as the store writes it: its SQL name and Npgsql's binary type.</summary>
internal sealed record PostgresColumnType(string SqlType, NpgsqlDbType NpgsqlType);

/// <summary>
/// PostgreSQL's one type map: PostgreSQL type names to Granary value types, the PostgreSQL type of an uploaded join key,
/// and the CLR values PostgreSQL rows hand over. It meets the embedded DuckDB's map only through <see cref="Definitions.ValueType"/>.
/// </summary>
internal static class PostgresTypeMap
{
    /// <summary>The PostgreSQL type that holds a feature value type (what features are cast to when read).</summary>
    public static string SqlTypeOf(Definitions.ValueType type)
    {
        var scalar = type.Scalar switch
        {
            ScalarType.Int32 => "integer",
            ScalarType.Int64 => "bigint",
            ScalarType.Float32 => "real",
            ScalarType.Float64 => "double precision",
            ScalarType.String => "text",
            ScalarType.Bool => "boolean",
            ScalarType.Bytes => "bytea",
            ScalarType.UnixTimestamp => "timestamptz",
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown scalar type"),
        };
        return type.IsList ? scalar + "[]" : scalar;
    }

    /// <summary>The feature value type of a PostgreSQL type name (as <c>format_type</c> spells it); null when none fits.</summary>
    public static Definitions.ValueType? ValueTypeOf(string postgresType)
    {
        var isList = postgresType.EndsWith("[]", StringComparison.Ordinal);
        ScalarType? scalar = postgresType.TrimEnd('[', ']') switch
        {
            "smallint" or "integer" => ScalarType.Int32,
            "bigint" => ScalarType.Int64,
            "real" => ScalarType.Float32,
            "double precision" or "numeric" => ScalarType.Float64,
            "text" or "character varying" or "character" => ScalarType.String,
            "boolean" => ScalarType.Bool,
            "bytea" => ScalarType.Bytes,
            "timestamp without time zone" or "timestamp with time zone" or "date" => ScalarType.UnixTimestamp,
            _ => null,
        };
        return scalar is { } s ? new Definitions.ValueType(s, isList) : null;
    }

    /// <summary>The PostgreSQL type an entity join-key column is uploaded as; throws naming the column when its type cannot be a key.</summary>
    public static PostgresColumnType JoinKeyTypeOf(string column, Definitions.ValueType? type, string engineType) => type switch
    {
        { IsList: false, Scalar: ScalarType.Int64 } => new("bigint", NpgsqlDbType.Bigint),
        { IsList: false, Scalar: ScalarType.Int32 } => new("integer", NpgsqlDbType.Integer),
        { IsList: false, Scalar: ScalarType.String } => new("text", NpgsqlDbType.Text),
        { IsList: false, Scalar: ScalarType.Float64 } => new("double precision", NpgsqlDbType.Double),
        { IsList: false, Scalar: ScalarType.Float32 } => new("real", NpgsqlDbType.Real),
        { IsList: false, Scalar: ScalarType.Bool } => new("boolean", NpgsqlDbType.Boolean),
        _ => throw new HistoricalRetrievalException($"entity column '{column}' has type {engineType}, which cannot be a join key; use an integer or text column"),
    };

    /// <summary>A join-key value converted to the CLR type Npgsql writes for <paramref name="type"/>.</summary>
    public static object ForJoinKey(object value, PostgresColumnType type) => type.NpgsqlType switch
    {
        NpgsqlDbType.Bigint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        NpgsqlDbType.Integer => Convert.ToInt32(value, CultureInfo.InvariantCulture),
        NpgsqlDbType.Double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        NpgsqlDbType.Real => Convert.ToSingle(value, CultureInfo.InvariantCulture),
        _ => value,
    };

    /// <summary>A value read from PostgreSQL in the CLR type the DuckDB staging column takes (numeric is a Float64 feature; smallint an Int32).</summary>
    public static object ForDuckDb(object value) => value switch
    {
        decimal d => (double)d,
        short n => (int)n,
        _ => value,
    };
}
