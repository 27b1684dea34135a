namespace Granary.Runtime.Serialization;

/// <summary>Carries exceptions across silos as type name plus message, recreating the original type when it can.</summary>
public static class GrainExceptionCodec
{
    /// <summary>Writes the exception's type (assembly-qualified, without version) and message.</summary>
    public static void Write(GrainWriter writer, Exception exception)
    {
        var type = exception is RemoteGrainException remote ? remote.OriginalTypeName : TypeName(exception.GetType());
        writer.WriteString(type);
        writer.WriteString(exception.Message);
    }

    /// <summary>Reads an exception: an instance of the original type when it has a (string message) constructor, else <see cref="RemoteGrainException"/>.</summary>
    public static Exception Read(ref GrainReader reader)
    {
        var typeName = reader.ReadString() ?? "System.Exception";
        var message = reader.ReadString() ?? string.Empty;
        return Create(typeName, message);
    }

    /// <summary>Recreates an exception of <paramref name="typeName"/> carrying <paramref name="message"/>.</summary>
    public static Exception Create(string typeName, string message)
    {
        if (typeName == TypeName(typeof(InconsistentStateException)))
            return new InconsistentStateException(message, null, null);
        // Reflection is acceptable here: this runs once per failed remote call, never on the success path.
        var type = Type.GetType(typeName, throwOnError: false);
        if (type is not null && typeof(Exception).IsAssignableFrom(type) && type.GetConstructor([typeof(string)]) is { } constructor)
        {
            try
            {
                return (Exception)constructor.Invoke([message]);
            }
            catch (System.Reflection.TargetInvocationException)
            {
                // Fall through: the type refused a plain message.
            }
        }
        return new RemoteGrainException(typeName, message);
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}

/// <summary>A grain call failed remotely with an exception type this process cannot recreate.</summary>
public sealed class RemoteGrainException(string originalTypeName, string message) : Exception(message)
{
    /// <summary>The remote exception's type, assembly-qualified.</summary>
    public string OriginalTypeName { get; } = originalTypeName;
}

/// <summary>A grain message could not be serialized or deserialized.</summary>
public sealed class GrainSerializationException(string message, Exception? innerException = null) : Exception(message, innerException);
