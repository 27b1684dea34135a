namespace Granary.DuckDb;

/// <summary>DuckDB's logical type ids (<c>DUCKDB_TYPE</c> in duckdb.h).</summary>
public enum DuckDbType
{
    /// <summary>Unknown or unsupported.</summary>
    Invalid = 0,
    /// <summary>BOOLEAN.</summary>
    Boolean = 1,
    /// <summary>TINYINT (int8).</summary>
    TinyInt = 2,
    /// <summary>SMALLINT (int16).</summary>
    SmallInt = 3,
    /// <summary>INTEGER (int32).</summary>
    Integer = 4,
    /// <summary>BIGINT (int64).</summary>
    BigInt = 5,
    /// <summary>UTINYINT.</summary>
    UTinyInt = 6,
    /// <summary>USMALLINT.</summary>
    USmallInt = 7,
    /// <summary>UINTEGER.</summary>
    UInteger = 8,
    /// <summary>UBIGINT.</summary>
    UBigInt = 9,
    /// <summary>FLOAT.</summary>
    Float = 10,
    /// <summary>DOUBLE.</summary>
    Double = 11,
    /// <summary>TIMESTAMP (microseconds, no zone).</summary>
    Timestamp = 12,
    /// <summary>DATE (days since epoch).</summary>
    Date = 13,
    /// <summary>TIME.</summary>
    Time = 14,
    /// <summary>INTERVAL.</summary>
    Interval = 15,
    /// <summary>HUGEINT.</summary>
    HugeInt = 16,
    /// <summary>VARCHAR.</summary>
    Varchar = 17,
    /// <summary>BLOB.</summary>
    Blob = 18,
    /// <summary>DECIMAL.</summary>
    Decimal = 19,
    /// <summary>TIMESTAMP_S.</summary>
    TimestampSeconds = 20,
    /// <summary>TIMESTAMP_MS.</summary>
    TimestampMilliseconds = 21,
    /// <summary>TIMESTAMP_NS.</summary>
    TimestampNanoseconds = 22,
    /// <summary>ENUM.</summary>
    Enum = 23,
    /// <summary>LIST.</summary>
    List = 24,
    /// <summary>STRUCT.</summary>
    Struct = 25,
    /// <summary>MAP.</summary>
    Map = 26,
    /// <summary>UUID.</summary>
    Uuid = 27,
    /// <summary>UNION.</summary>
    Union = 28,
    /// <summary>BIT.</summary>
    Bit = 29,
    /// <summary>TIME WITH TIME ZONE.</summary>
    TimeTz = 30,
    /// <summary>TIMESTAMP WITH TIME ZONE (microseconds since the epoch, UTC).</summary>
    TimestampTz = 31,
    /// <summary>UHUGEINT.</summary>
    UHugeInt = 32,
    /// <summary>ARRAY (fixed size).</summary>
    Array = 33,
    /// <summary>ANY.</summary>
    Any = 34,
    /// <summary>VARINT / BIGNUM.</summary>
    BigNum = 35,
    /// <summary>The type of a NULL literal.</summary>
    SqlNull = 36,
}
