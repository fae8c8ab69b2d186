// @peculiar/x509 resolves its services through tsyringe, which needs reflect-metadata loaded first.
import "reflect-metadata";
