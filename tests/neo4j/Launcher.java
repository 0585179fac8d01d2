import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * An embedded Neo4j Community server for memlane's tests: Bolt only, on 127.0.0.1.
 *
 * <p>Usage: {@code Launcher HOME PORT PASSWORD}. HOME holds the data and transaction logs
 * (start it again on the same HOME to recover after a crash); PORT 0 takes a free one. The
 * user {@code neo4j} gets PASSWORD. Prints {@code READY <port> <version>} once the default
 * database answers, then runs until SIGTERM or the end of its stdin (a clean shutdown) or
 * SIGKILL (a crash).
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher HOME PORT PASSWORD");
            System.exit(2);
        }
        Path home = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        String password = args[2];

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                // A test server: no phoning home, small caches, no preallocated log files.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, 64L * 1024 * 1024)
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }));
        // The process that started us holds our stdin open: when it dies, however it dies,
        // stdin ends and so do we (no server outlives its test run).
        Thread parent = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // nothing is sent; only the end matters
                }
            } catch (java.io.IOException e) {
                // a closed pipe is an end too
            }
            System.exit(0);
        });
        parent.setDaemon(true);
        parent.start();

        try {
            setPassword(dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME), password);
            GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            String version = db.executeTransactionally(
                    "CALL dbms.components() YIELD versions RETURN versions[0] AS v",
                    java.util.Map.of(),
                    result -> String.valueOf(result.next().get("v")));
            int bound = ((GraphDatabaseAPI) db).getDependencyResolver()
                    .resolveDependency(ConnectorPortRegister.class)
                    .getLocalAddress(ConnectorType.BOLT)
                    .getPort();
            System.out.println("READY " + bound + " " + version);
            System.out.flush();
        } catch (RuntimeException e) {
            // Neo4j's own threads would keep the JVM alive: say why, and stop.
            e.printStackTrace();
            System.exit(1);
        }
        stopped.await();
    }

    /** The initial password, once: a restart on the same HOME keeps the one it has. */
    private static void setPassword(GraphDatabaseService system, String password) {
        boolean initial = system.executeTransactionally(
                "SHOW USERS YIELD user, passwordChangeRequired WHERE user = 'neo4j' "
                        + "RETURN passwordChangeRequired AS required",
                java.util.Map.of(),
                result -> result.hasNext() && Boolean.TRUE.equals(result.next().get("required")));
        if (initial) {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    java.util.Map.of("password", password));
        }
    }
}
