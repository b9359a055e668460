// Other machines to run engines on, over the system's OpenSSH (issue 24: hosts first; remote engines build on them).
export {
  type HostCheck,
  type HostEntry,
  type HostState,
  HOSTS_FILE,
  MIN_NODE_MAJOR,
  addHost,
  checkHost,
  desktopId,
  noteDesktop,
  findHost,
  readHosts,
  removeHost,
} from './hosts.ts';
export { closeConnection, destinationArgs, runSsh, sshOptions } from './ssh.ts';
