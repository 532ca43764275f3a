// Co-partitioned assignment: a member that owns partition number N owns N of every topic it reads.
//
// Why: the rollups pair a send with its engagements and spam-risk events as they arrive (warehouse migration 04),
// and that pairing is exact only while one user's events are written by one writer at a time. Producers key every
// event by user_id and the three event topics have the same partition count, so one user's send, engagement and
// opt-out all sit in the same partition number; giving that number of every topic to one member keeps a user on
// one writer however many ingest processes share the group. Kafka Streams assigns co-partitioned topics the
// same way. Design and failure cases: docs/ingest.md "Several ingest processes".
import kafkajs, { type Assigner, type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;

export const COPARTITION_ASSIGNER = 'PolicylensCopartitioned';

/** Partition numbers per member: numbers dealt round-robin over members sorted by id, the same on every topic. */
export function copartitionedAssignment(memberIds: string[], partitionsByTopic: Record<string, number[]>): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const numbers = [...new Set(Object.values(partitionsByTopic).flat())].sort((a, b) => a - b);
  const result = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  numbers.forEach((n, i) => {
    const owned = result.get(members[i % members.length])!;
    for (const [topic, partitions] of Object.entries(partitionsByTopic)) {
      if (partitions.includes(n)) (owned[topic] ??= []).push(n);
    }
  });
  return result;
}

export const copartitionAssigner: PartitionAssigner = ({ cluster }): Assigner => ({
  name: COPARTITION_ASSIGNER,
  version: 1,
  async assign({ members, topics }) {
    const partitionsByTopic = Object.fromEntries(topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId)]));
    const assignment = copartitionedAssignment(
      members.map((m) => m.memberId),
      partitionsByTopic,
    );
    return [...assignment].map(([memberId, topicPartitions]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: topicPartitions, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return {
      name: COPARTITION_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
